"""Webhooks: which deliveries a stored analysis makes, their body, and how attempts go."""

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from analyzer import policies, webhooks
from analyzer.models import Action, Analysis, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from analyzer.services import analysis_create
from analyzer.signatures import SIGNATURE_HEADER, signature_verify

pytestmark = pytest.mark.django_db

TASK_PATH = "analyzer.webhooks.webhook_deliver"
SECRET = "unit-test-webhook-secret"


@pytest.fixture
def review_policy(fake_engine):
    """The hostile text of the fake engine goes to review (toxic 0.97, insult 0.91)."""
    policies.policy_current(labels=fake_engine.labels)
    for label in ("toxic", "insult"):
        policies.policy_change(label=label, review_threshold=0.5, block_threshold=0.99, user=None)


def endpoint(**fields) -> WebhookEndpoint:
    defaults = {"name": "chat", "url": "http://127.0.0.1:9/hook", "secret": SECRET}
    return WebhookEndpoint.objects.create(**{**defaults, **fields})


def queued_tasks() -> list[list[int]]:
    return [task.args_kwargs["args"] for task in DBTaskResult.objects.filter(task_path=TASK_PATH)]


def test_an_analysis_sent_to_review_makes_a_delivery_per_subscribed_endpoint(
    review_policy, django_capture_on_commit_callbacks
):
    wants_review = endpoint(name="reviews", on_block=False)
    endpoint(name="blocks only", on_review=False)
    endpoint(name="switched off", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        analysis = analysis_create(text="You are a complete idiot")
    assert analysis.action == Action.REVIEW
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.analysis, delivery.action) == (
        wants_review,
        analysis,
        Action.REVIEW,
    )
    assert delivery.status == DeliveryStatus.PENDING
    assert queued_tasks() == [[delivery.pk]]


def test_allowed_analyses_notify_nobody_and_cost_no_endpoint_query(review_policy):
    endpoint()
    with CaptureQueriesContext(connection) as queries:
        analysis_create(text="Have a lovely day")
    assert not WebhookDelivery.objects.exists()
    assert not [query for query in queries if "webhookendpoint" in query["sql"]]


def test_the_body_names_the_analysis_its_action_labels_scores_and_link(review_policy, settings):
    settings.TOXMON_BASE_URL = "https://toxmon.example.org"
    endpoint()
    analysis = analysis_create(text="You are a complete idiot")
    body = json.loads(WebhookDelivery.objects.get().body)
    assert body["event"] == "analysis.review"
    sent = body["analysis"]
    assert (sent["id"], sent["action"]) == (analysis.pk, "review")
    assert sent["labels"] == ["toxic", "insult"]
    assert sent["scores"] == analysis.scores
    assert sent["policy_version"] == analysis.policy_version_id
    assert sent["url"] == "https://toxmon.example.org" + reverse(
        "admin:analyzer_analysis_change", args=[analysis.pk]
    )
    assert "You are a complete idiot" not in WebhookDelivery.objects.get().body


def test_a_queue_that_cannot_be_written_fails_no_request(
    client, review_policy, monkeypatch, django_capture_on_commit_callbacks
):
    endpoint()

    def broken(**kwargs):
        raise RuntimeError("the task table is gone")

    monkeypatch.setattr(webhooks, "deliveries_enqueue", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analyzer:analyze"), {"text": "You are a complete idiot"})
    assert response.status_code == 200
    assert Analysis.objects.count() == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def delivery_for() -> WebhookDelivery:
    endpoint()
    analysis_create(text="You are a complete idiot")
    return WebhookDelivery.objects.get()


class FakeReceiver:
    def __init__(self, status: int | None, error: str = "") -> None:
        self.status = status
        self.error = error
        self.calls: list[dict] = []

    def __call__(self, *, url: str, body: bytes, headers: dict[str, str]) -> webhooks.Attempt:
        self.calls.append({"url": url, "body": body, "headers": headers})
        return webhooks.Attempt(status_code=self.status, error=self.error)


def test_an_attempt_signs_the_stored_body_and_a_2xx_delivers_it(review_policy, monkeypatch):
    delivery = delivery_for()
    receiver = FakeReceiver(status=204)
    monkeypatch.setattr(webhooks, "post", receiver)
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    [call] = receiver.calls
    assert call["body"] == delivery.body.encode()
    assert call["headers"]["X-Toxmon-Event"] == "analysis.review"
    assert signature_verify(
        secret=SECRET,
        header=call["headers"][SIGNATURE_HEADER],
        body=call["body"],
        now=int(time.time()),
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("delivered", 1, 204)
    assert delivery.delivered_at is not None


def test_a_failed_attempt_is_retried_after_a_doubling_wait_then_given_up(
    review_policy, monkeypatch, settings
):
    settings.TOXMON_WEBHOOK_MAX_ATTEMPTS = 3
    settings.TOXMON_WEBHOOK_BACKOFF_SECONDS = 10
    delivery = delivery_for()
    monkeypatch.setattr(webhooks, "post", FakeReceiver(status=500, error="HTTP 500: oops"))
    waits = []
    for attempt in (1, 2, 3):
        webhooks.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if delivery.next_attempt_at is not None:
            waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
    assert waits == [10, 20]
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.status_code, delivery.last_error) == (500, "HTTP 500: oops")
    retries = DBTaskResult.objects.filter(task_path=TASK_PATH).order_by("run_after")
    assert [task.args_kwargs["args"] for task in retries] == [[delivery.pk], [delivery.pk]]
    # A finished delivery is not tried again, whatever task comes for it.
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 3


def test_a_switched_off_endpoint_gets_nothing_more(review_policy, monkeypatch):
    delivery = delivery_for()
    WebhookEndpoint.objects.update(is_active=False)
    receiver = FakeReceiver(status=200)
    monkeypatch.setattr(webhooks, "post", receiver)
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert receiver.calls == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "switched off" in delivery.last_error


def test_failed_deliveries_can_be_sent_again(review_policy, monkeypatch, settings):
    settings.TOXMON_WEBHOOK_MAX_ATTEMPTS = 1
    delivery = delivery_for()
    monkeypatch.setattr(webhooks, "post", FakeReceiver(status=None, error="refused"))
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    assert webhooks.deliveries_retry(deliveries=WebhookDelivery.objects.all()) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert [delivery.pk] in queued_tasks()


def test_only_http_and_https_urls_are_called():
    attempt = webhooks.post(url="file:///etc/passwd", body=b"{}", headers={})
    assert attempt.status_code is None and "http" in attempt.error
