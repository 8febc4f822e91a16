"""A moderator at the form, or a client of the API, sending comments without pause.

Run by benchmarks/bench.py with, in the environment, BENCH_CORPUS=mixed|short and BENCH_PATH:
- form-default: the form as a browser uses it by default: GET / once, then each comment is
  posted with "Show which words raised the score" on, and the page's script fetches the
  explanation (a 503 there means the busy server declined to explain, counted as a failure of
  the "explanation" requests, not of the analyses);
- form: the form with explanations off;
- api / api-explain: POST /api/v1/analyze with one text, without or with `explain`
  (BENCH_API_KEY holds the token).
"""

import itertools
import json
import os
import random
import re

from locust import FastHttpUser, constant, task

from benchmarks.corpus import corpus_texts, short_texts

TEXTS = short_texts() if os.environ.get("BENCH_CORPUS") == "short" else corpus_texts()
PATH = os.environ.get("BENCH_PATH", "form")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
EXPLANATION = re.compile(r'data-explanation-src="([^"]+)"')
user_numbers = itertools.count()


class Moderator(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        # Each user walks the corpus from its own place, so users do not send the same text.
        start = random.Random(next(user_numbers)).randrange(len(TEXTS))  # noqa: S311
        self.texts = itertools.cycle(TEXTS[start:] + TEXTS[:start])
        if PATH.startswith("form"):
            response = self.client.get("/", name="form")
            self.csrf_token = TOKEN.search(response.text).group(1)

    @task
    def analyze(self) -> None:
        if PATH.startswith("api"):
            self.api_post()
        else:
            self.form_post()

    def form_post(self) -> None:
        data = {"csrfmiddlewaretoken": self.csrf_token, "text": next(self.texts)}
        if PATH == "form-default":
            data["explain"] = "on"
        with self.client.post(
            "/",
            data=data,
            headers={"Referer": f"{self.host}/"},
            name="analyze",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or 'id="result-heading"' not in response.text:
                response.failure(f"status {response.status_code} without a result")
                return
            link = EXPLANATION.search(response.text) if PATH == "form-default" else None
        if link is None:
            return
        with self.client.get(link.group(1), name="explanation", catch_response=True) as answer:
            if answer.status_code == 503:
                answer.failure("busy: the server declined to explain")
            elif answer.status_code != 200 or "explained-text" not in answer.text:
                answer.failure(f"status {answer.status_code} without highlights")

    def api_post(self) -> None:
        body = {"texts": [next(self.texts)], "store": True, "explain": PATH == "api-explain"}
        with self.client.post(
            "/api/v1/analyze",
            data=json.dumps(body),
            headers={
                "Authorization": f"Bearer {os.environ['BENCH_API_KEY']}",
                "Content-Type": "application/json",
            },
            name="analyze",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
