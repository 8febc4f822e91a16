"""Moderators using toxmon: open the form, post sentences, now and then check /healthz.

Each task sends exactly one request and every user runs TOXMON_STRESS_USER_RPM tasks a minute
(default 10), so N users make N x that many requests a minute: 10 users are the project's
100 requests per minute.

    locust -f tests/stress/locustfile.py --headless --host http://127.0.0.1:8000 -u 10 -t 60s
"""

import os
import random
import re

from locust import HttpUser, constant_throughput, task

REQUESTS_PER_USER_PER_MINUTE = float(os.environ.get("TOXMON_STRESS_USER_RPM", "10"))
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SHORT = [
    "Thanks, that fixed it.",
    "Great match last night!",
    "Who wrote this?",
    "Nice photo.",
    "I disagree, but fair point.",
]
MEDIUM = [
    "I read the whole thread and I still think the original proposal is the better one, "
    "mostly because it keeps the old behaviour for people who rely on it.",
    "The delivery was two days late and the box was damaged, but customer service sorted "
    "it out quickly and sent a replacement without any fuss.",
    "Could someone explain why the meeting was moved? I had already booked a room for "
    "Thursday and nobody told the rest of the team.",
    "This recipe works well with oat milk too, just add a little more flour so the batter "
    "does not come out too thin.",
]
TOXIC = [
    "You are a complete idiot.",
    "Shut up, nobody cares what a moron like you thinks.",
    "What a stupid, worthless comment from a pathetic loser.",
    "Get lost, you clueless idiot, and take your garbage opinions with you.",
]
# A long comment: several paragraphs, so a real model reads it in more than one window.
LONG = [
    "\n\n".join(random.Random(seed).sample(MEDIUM * 6, 18)) + suffix
    for seed, suffix in [(1, ""), (2, " Honestly, whoever wrote the first post is an idiot.")]
]
CORPUS = {"short": SHORT, "medium": MEDIUM, "long": LONG, "toxic": TOXIC}
CORPUS_WEIGHTS = {"short": 4, "medium": 3, "long": 1, "toxic": 2}


def sentence_pick(rng: random.Random) -> str:
    """Return a text from the mixed corpus: mostly short or medium, some long, some toxic."""
    [kind] = rng.choices(list(CORPUS_WEIGHTS), weights=list(CORPUS_WEIGHTS.values()))
    return rng.choice(CORPUS[kind])


class Moderator(HttpUser):
    wait_time = constant_throughput(REQUESTS_PER_USER_PER_MINUTE / 60)

    def on_start(self) -> None:
        self.csrf_token: str | None = None
        self.rng = random.Random()

    @task(3)
    def open_form(self) -> None:
        with self.client.get("/", name="/ (form)", catch_response=True) as response:
            found = CSRF_FIELD.search(response.text or "")
            if response.status_code != 200 or found is None:
                response.failure(f"no form: HTTP {response.status_code}")
                return
            self.csrf_token = found.group(1)

    @task(6)
    def analyze(self) -> None:
        if self.csrf_token is None:
            # A user opens the form before posting to it; that visit is this task's request.
            self.open_form()
            return
        with self.client.post(
            "/",
            name="/ (analyze)",
            data={"csrfmiddlewaretoken": self.csrf_token, "text": sentence_pick(self.rng)},
            headers={"Referer": f"{self.host}/"},
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "data-verdict=" not in (response.text or ""):
                response.failure(f"no verdict: HTTP {response.status_code}")

    @task(1)
    def check_health(self) -> None:
        with self.client.get("/healthz", name="/healthz", catch_response=True) as response:
            try:
                status = response.json().get("status")
            except ValueError:
                status = None
            if response.status_code != 200 or status != "ok":
                response.failure(f"unhealthy: HTTP {response.status_code} {response.text[:200]}")
