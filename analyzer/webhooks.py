"""Webhooks: tell admin's endpoints about analyses sent to review or blocked, in the background.

When analyses are stored, a delivery per endpoint and analysis is written in the same
transaction (so none is lost), and once it commits each is queued for `manage.py db_worker`.
A request never waits for a receiver and never fails because of one. Each attempt signs the body
with a fresh timestamp (analyzer/signatures.py); a failed attempt is tried again after a wait
that doubles each time, up to TOXMON_WEBHOOK_MAX_ATTEMPTS, and every outcome stays in the
delivery log. Receivers are only the URLs admin entered; redirects are not followed, so a
receiver cannot point the request elsewhere, and a silent one is given up on quickly.

The task is defined here, not in analyzer/tasks.py, because storing analyses (services) queues
it and the layers below entry points cannot import tasks.py.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from analyzer.models import Action, Analysis, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from analyzer.signatures import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

NOTIFIED_ACTIONS = frozenset({Action.REVIEW, Action.BLOCK})
USER_AGENT = "toxmon-webhooks/1"
# What of a failing receiver's answer the delivery log keeps.
ERROR_BODY_CHARS = 200


@task()
def webhook_deliver(delivery_id: int) -> None:
    """Make one attempt at a delivery (run by `manage.py db_worker`)."""
    delivery_attempt(delivery_id=delivery_id)


def analysis_url(analysis: Analysis) -> str:
    """Return the address of the analysis in admin, for people following the webhook."""
    return settings.TOXMON_BASE_URL + reverse("admin:analyzer_analysis_change", args=[analysis.pk])


def body_build(analysis: Analysis) -> str:
    """Return the JSON body that tells about a stored analysis (its text stays in toxmon)."""
    payload: dict[str, Any] = {
        "event": f"analysis.{analysis.action}",
        "analysis": {
            "id": analysis.pk,
            "action": analysis.action,
            "labels": analysis.action_labels,
            "scores": analysis.scores,
            "verdict": analysis.verdict,
            "top_label": analysis.top_label,
            "max_score": analysis.max_score,
            "policy_version": analysis.policy_version_id,
            "model": analysis.model_name,
            "source": analysis.source,
            "created_at": analysis.created_at.isoformat(),
            "url": analysis_url(analysis),
        },
    }
    return json.dumps(payload, separators=(",", ":"))


def deliveries_create(*, analyses: Sequence[Analysis]) -> list[int]:
    """Write a pending delivery for each endpoint that wants each stored analysis's action.

    Runs inside the transaction that stores the analyses; returns the deliveries' ids.
    """
    notified = [analysis for analysis in analyses if analysis.action in NOTIFIED_ACTIONS]
    if not notified:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint, analysis=analysis, action=analysis.action, body=body_build(analysis)
        )
        for analysis in notified
        for endpoint in endpoints
        if analysis.action in endpoint.actions
    ]
    return [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(deliveries)]


def deliveries_enqueue(*, delivery_ids: Sequence[int]) -> None:
    """Queue a task per delivery; called once the transaction that wrote them has committed."""
    for delivery_id in delivery_ids:
        webhook_deliver.enqueue(delivery_id)


def deliveries_enqueue_on_commit(*, delivery_ids: Sequence[int]) -> None:
    """Queue the deliveries when the current transaction commits, never failing the caller."""
    if delivery_ids:
        ids = list(delivery_ids)
        # robust: a queue that cannot be written is logged; the deliveries stay pending.
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=ids), robust=True)


def deliveries_retry(*, deliveries: QuerySet[WebhookDelivery]) -> int:
    """Give failed deliveries a new round of attempts; return how many were queued."""
    ids = list(deliveries.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None
    )
    deliveries_enqueue(delivery_ids=ids)
    return len(ids)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class RedirectRefused(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: the request goes to the URL admin entered and nowhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST the body and return the status, or why there was none."""
    if not url.lower().startswith(("http://", "https://")):
        return Attempt(status_code=None, error="Only http and https URLs are called.")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(RedirectRefused)
    timeout = settings.TOXMON_WEBHOOK_TIMEOUT_SECONDS
    try:
        with opener.open(request, timeout=timeout) as response:
            return Attempt(status_code=response.status, error="")
    except urllib.error.HTTPError as error:
        answer = error.read(ERROR_BODY_CHARS).decode("utf-8", "replace")
        note = " (redirects are not followed)" if 300 <= error.code < 400 else ""
        return Attempt(status_code=error.code, error=f"HTTP {error.code}{note}: {answer}".strip())
    except urllib.error.URLError as error:
        return Attempt(status_code=None, error=f"Could not connect: {error.reason}")
    except TimeoutError:
        return Attempt(status_code=None, error=f"No answer within {timeout:g} s")
    except OSError as error:
        return Attempt(status_code=None, error=f"Connection failed: {error}")


def backoff_seconds(*, attempts: int) -> float:
    """Return the wait before the next attempt: the base wait, doubled after each failure."""
    return float(settings.TOXMON_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1))


def delivery_attempt(*, delivery_id: int) -> None:
    """Send a pending delivery once; record the outcome and queue the next try if one is due."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        attempt = Attempt(status_code=None, error="The endpoint was switched off.")
        attempts = delivery.attempts
    else:
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Toxmon-Delivery": str(delivery.pk),
            "X-Toxmon-Event": f"analysis.{delivery.action}",
            SIGNATURE_HEADER: signature_header(
                secret=endpoint.secret, timestamp=int(time.time()), body=body
            ),
        }
        attempt = post(url=endpoint.url, body=body, headers=headers)
        attempts = delivery.attempts + 1
    delivery_record(
        delivery=delivery, attempt=attempt, attempts=attempts, gave_up=not endpoint.is_active
    )


def delivery_record(
    *, delivery: WebhookDelivery, attempt: Attempt, attempts: int, gave_up: bool
) -> None:
    """Store how an attempt went, and queue the next one after its wait when one is left."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "attempts": attempts,
        "status_code": attempt.status_code,
        "last_error": attempt.error,
        "last_attempt_at": now,
        "next_attempt_at": None,
    }
    retry_at = None
    if attempt.succeeded:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
        outcome = "delivered"
    elif gave_up or attempts >= settings.TOXMON_WEBHOOK_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED)
        outcome = "failed"
    else:
        retry_at = now + timedelta(seconds=backoff_seconds(attempts=attempts))
        fields.update(next_attempt_at=retry_at)
        outcome = "retried"
    # Only the attempt that found the delivery pending with this count records it.
    recorded = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(**fields)
    if not recorded:
        return
    if outcome != "delivered":
        logger.warning(
            "Webhook delivery %s to %s, attempt %d: %s (%s)",
            delivery.pk,
            delivery.endpoint.name,
            attempts,
            attempt.error,
            outcome,
        )
    if retry_at is not None:
        webhook_deliver.using(run_after=retry_at).enqueue(delivery.pk)
