"""A moderator at the form: GET / once for the CSRF token, then POST comments without pause.

Run by benchmarks/bench.py with BENCH_CORPUS=mixed|short in the environment.
"""

import itertools
import os
import random
import re

from locust import FastHttpUser, constant, task

from benchmarks.corpus import corpus_texts, short_texts

TEXTS = short_texts() if os.environ.get("BENCH_CORPUS") == "short" else corpus_texts()
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
user_numbers = itertools.count()


class Moderator(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        response = self.client.get("/", name="form")
        self.csrf_token = TOKEN.search(response.text).group(1)
        # Each user walks the corpus from its own place, so users do not send the same text.
        start = random.Random(next(user_numbers)).randrange(len(TEXTS))  # noqa: S311
        self.texts = itertools.cycle(TEXTS[start:] + TEXTS[:start])

    @task
    def analyze(self) -> None:
        with self.client.post(
            "/",
            data={"csrfmiddlewaretoken": self.csrf_token, "text": next(self.texts)},
            headers={"Referer": f"{self.host}/"},
            name="analyze",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or 'id="result-heading"' not in response.text:
                response.failure(f"status {response.status_code} without a result")
