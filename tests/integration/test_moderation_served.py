"""Policies and webhooks in the served app: two gunicorn workers, the database task worker, and a
receiver on 127.0.0.1 that checks each body's signature."""

import contextlib
import http.server
import itertools
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from analyzer.signatures import SIGNATURE_HEADER, signature_verify
from tests.serving import LiveApp, db_worker, free_port, served_app

SECRET = "integration-webhook-secret-0123"
ADMIN = ("lead", "integration-only-password-7d1e")
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
TIMEOUT_SECONDS = 1
SLOW_SECONDS = 3


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A local webhook receiver: answers each path with the status it is told."""

    statuses: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(
                Received(self.path, dict(self.headers.items()), body, time.monotonic())
            )
            status = state.statuses.get(self.path, 204)
            if self.path.startswith("/slow"):
                time.sleep(SLOW_SECONDS)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", state.url("/redirected"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            # A sender that gave up on a slow answer has closed the connection.
            with contextlib.suppress(ConnectionError):
                super().handle()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app with the offline engine (one label, "offensive") on two workers."""
    with served_app(
        tmp_path_factory.mktemp("moderation"),
        workers=2,
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="0",
        TOXMON_WEBHOOK_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        TOXMON_WEBHOOK_BACKOFF_SECONDS=str(BACKOFF_SECONDS),
        TOXMON_WEBHOOK_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        TOXMON_API_RATE_LIMIT="1000/minute",
    ) as live:
        live.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser({ADMIN[0]!r}, 'lead@example.com', {ADMIN[1]!r})",
        )
        yield live


@pytest.fixture(scope="module")
def worker(app: LiveApp) -> Iterator[None]:
    """Send every text to review, then run the task worker that delivers webhooks.

    The policy is set first: on SQLite the worker takes an exclusive lock at every poll, and a
    Django admin form (which reads before it writes in one transaction) fails to get the write
    lock meanwhile, unless the database runs IMMEDIATE transactions.
    """
    policy_set(app, review=0.01, block=1.0, reason="Everything to review")
    with db_worker(app, log=app.log.parent / "db_worker.log"):
        yield


@pytest.fixture(scope="module")
def key(app: LiveApp) -> str:
    return app.manage("api_token_create", "moderation").stdout.strip()


def rows(app: LiveApp, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(app.database) as connection:
        return connection.execute(sql, params).fetchall()


def analyze(app: LiveApp, key: str, texts: list[str]) -> dict:
    # A new connection per call, so the two workers share the requests.
    response = requests.post(
        f"{app.url}/api/v1/analyze",
        json={"texts": texts},
        headers={"Authorization": f"Bearer {key}", "Connection": "close"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def admin_session(app: LiveApp) -> requests.Session:
    session = requests.Session()
    session.get(f"{app.url}/admin/login/", timeout=10)
    response = session.post(
        f"{app.url}/admin/login/?next=/admin/",
        data={
            "username": ADMIN[0],
            "password": ADMIN[1],
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert response.url.endswith("/admin/"), "the admin login failed"
    return session


def policy_set(app: LiveApp, *, review: float, block: float, reason: str) -> None:
    """Change the "offensive" label's thresholds through admin's form, as a person would."""
    session = admin_session(app)
    listing = session.get(f"{app.url}/admin/analyzer/labelpolicy/", timeout=10).text
    [pk] = re.findall(r"/admin/analyzer/labelpolicy/(\d+)/change/", listing)
    response = session.post(
        f"{app.url}/admin/analyzer/labelpolicy/{pk}/change/",
        data={
            "review_threshold": str(review),
            "block_threshold": str(block),
            "reason": reason,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert response.status_code == 200 and "/labelpolicy/" in response.url


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def endpoint_add(app: LiveApp, *, name: str, url: str) -> None:
    app.manage(
        "shell",
        "-c",
        "from analyzer.models import WebhookEndpoint\n"
        "WebhookEndpoint.objects.filter(is_active=True).update(is_active=False)\n"
        f"WebhookEndpoint.objects.create(name={name!r}, url={url!r}, secret={SECRET!r})",
    )


def test_a_policy_change_in_admin_is_kept_in_history_and_every_worker_judges_by_it(app, key):
    # Both workers read the first policy (the offline engine scores an insult well above 0.5).
    before = [analyze(app, key, ["You are a complete idiot"]) for _ in range(6)]
    assert {body["results"][0]["action"] for body in before} == {"block"}
    first_version = before[0]["policy_version"]

    policy_set(app, review=0.3, block=1.0, reason="Insults go to a person first")

    after = [analyze(app, key, ["You are a complete idiot"]) for _ in range(8)]
    versions = {body["policy_version"] for body in after}
    assert len(versions) == 1 and versions != {first_version}
    assert {body["results"][0]["action"] for body in after} == {"review"}
    [(user, reason, review, block)] = rows(
        app,
        "SELECT u.username, h.history_change_reason, h.review_threshold, h.block_threshold "
        "FROM analyzer_historicallabelpolicy h JOIN auth_user u ON u.id = h.history_user_id "
        "WHERE h.label = 'offensive'",
    )
    assert (user, reason, review, block) == ("lead", "Insults go to a person first", 0.3, 1.0)
    ids = [body["results"][0]["id"] for body in after]
    stored = rows(
        app,
        "SELECT DISTINCT policy_version_id, action FROM analyzer_analysis "
        f"WHERE id IN ({','.join('?' * len(ids))})",
        *ids,
    )
    assert stored == [(versions.pop(), "review")]


def test_a_receiver_gets_a_correctly_signed_body(app, key, receiver, worker):
    endpoint_add(app, name="receiver", url=receiver.url("/ok"))
    body = analyze(app, key, ["You are a complete idiot"])
    [request] = wait_for(lambda: receiver.on("/ok"), timeout=30, what="the webhook")
    assert signature_verify(
        secret=SECRET,
        header=request.headers[SIGNATURE_HEADER],
        body=request.body,
        now=int(time.time()),
    )
    sent = json.loads(request.body)
    assert sent["event"] == "analysis.review"
    assert sent["analysis"]["id"] == body["results"][0]["id"]
    assert sent["analysis"]["action"] == "review"
    assert sent["analysis"]["labels"] == ["offensive"]
    assert set(sent["analysis"]["scores"]) == {"offensive"}
    assert sent["analysis"]["url"].endswith(
        f"/admin/analyzer/analysis/{sent['analysis']['id']}/change/"
    )
    wait_for(
        lambda: delivery_log(app, sent["analysis"]["id"]) == [("delivered", 1, 204, "")],
        timeout=10,
        what="the delivery log",
    )


def delivery_log(app: LiveApp, analysis_id: int) -> list[tuple]:
    return rows(
        app,
        "SELECT status, attempts, status_code, last_error FROM analyzer_webhookdelivery "
        "WHERE analysis_id = ?",
        analysis_id,
    )


def test_a_silent_receiver_neither_holds_up_the_request_nor_the_worker_for_long(
    app, key, receiver, worker
):
    endpoint_add(app, name="silent", url=receiver.url("/slow"))
    started = time.monotonic()
    analysis_id = analyze(app, key, ["Hello there, silent one"])["results"][0]["id"]
    assert time.monotonic() - started < SLOW_SECONDS, "the request waited for the receiver"
    [(status, attempts, code, error)] = wait_for(
        lambda: [row for row in delivery_log(app, analysis_id) if row[1] >= 1],
        timeout=30,
        what="the first attempt",
    )
    assert (status, attempts, code) == ("pending", 1, None)
    assert error == f"No answer within {TIMEOUT_SECONDS} s"


def test_a_failing_receiver_is_retried_with_growing_waits_then_logged_as_failed(
    app, key, receiver, worker
):
    receiver.statuses["/fails"] = 500
    endpoint_add(app, name="failing", url=receiver.url("/fails"))
    analysis_id = analyze(app, key, ["Have a lovely day"])["results"][0]["id"]
    attempts = wait_for(
        lambda: len(receiver.on("/fails")) >= MAX_ATTEMPTS and receiver.on("/fails"),
        timeout=60,
        what=f"{MAX_ATTEMPTS} attempts",
    )
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= BACKOFF_SECONDS * 0.9 and gaps[1] >= 2 * BACKOFF_SECONDS * 0.9, gaps
    assert len({request.body for request in attempts}) == 1, "every attempt sends the same body"
    wait_for(
        lambda: [row[:3] for row in delivery_log(app, analysis_id)] == [("failed", 3, 500)],
        timeout=10,
        what="the failure in the delivery log",
    )
    assert delivery_log(app, analysis_id)[0][3].startswith("HTTP 500")
    time.sleep(BACKOFF_SECONDS * 4)
    assert len(receiver.on("/fails")) == MAX_ATTEMPTS, "no attempt after the last"


def test_a_redirecting_receiver_is_not_followed(app, key, receiver, worker):
    receiver.statuses["/moves"] = 302
    endpoint_add(app, name="moves", url=receiver.url("/moves"))
    analysis_id = analyze(app, key, ["Hello there"])["results"][0]["id"]
    wait_for(lambda: len(receiver.on("/moves")) >= 1, timeout=30, what="the first attempt")
    [(_, _, status_code, error)] = wait_for(
        lambda: [row for row in delivery_log(app, analysis_id) if row[1] >= 1],
        timeout=10,
        what="the attempt in the log",
    )
    assert status_code == 302 and "redirects are not followed" in error
    assert receiver.on("/redirected") == []
