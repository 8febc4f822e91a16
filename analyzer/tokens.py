"""API tokens: made in admin, kept only as a hash, checked on every API request."""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analyzer.models import ApiToken

KEY_PREFIX = "tmx_"
RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600}


def key_hash(key: str) -> str:
    """Return the stored form of a key.

    The keys are 256 random bits, so a fast hash is enough: there is nothing to guess.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, name: str, created_by: User | None = None) -> tuple[ApiToken, str]:
    """Make a token and return it with its key, which is not kept and cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, prefix=key[: len(KEY_PREFIX) + 6], key_hash=key_hash(key), created_by=created_by
    )
    token.full_clean()
    token.save()
    return token, key


def token_revoke(*, token: ApiToken) -> None:
    """Stop a token from working; it stays listed with the time it was revoked."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def token_authenticate(*, authorization: str) -> ApiToken | None:
    """Return the active token of an `Authorization: Bearer <key>` header, or None."""
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return ApiToken.objects.filter(key_hash=key_hash(key.strip()), revoked_at=None).first()


@dataclass(frozen=True)
class RateLimit:
    requests: int  # texts, for the API's limit
    seconds: int


def rate_limit_get() -> RateLimit:
    """Return TOXMON_API_RATE_LIMIT, e.g. "60/minute", as a count and a window."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*", settings.TOXMON_API_RATE_LIMIT)
    if not match or int(match[1]) < 1:
        raise ImproperlyConfigured(
            'TOXMON_API_RATE_LIMIT must look like "60/minute" (per second, minute or hour).'
        )
    return RateLimit(requests=int(match[1]), seconds=RATE_UNITS[match[2]])


def token_work_count(*, token: ApiToken, texts: int) -> int | None:
    """Count texts against the token's limit; return the seconds to wait when it is over it.

    The limit (TOXMON_API_RATE_LIMIT) counts texts, not requests, so 32 texts in one request
    cost what 32 requests of one text do. A fixed window per token, counted with single UPDATE
    statements so that concurrent requests in any worker or replica are all counted; a request
    refused still counts, as it would cost a server that did not refuse it.
    """
    limit = rate_limit_get()
    now = timezone.now()
    window = timedelta(seconds=limit.seconds)
    tokens = ApiToken.objects.filter(pk=token.pk)
    with transaction.atomic():
        # requests_in_window holds texts since the limit counts texts.
        counted = tokens.filter(window_started_at__gt=now - window).update(
            requests_in_window=F("requests_in_window") + texts, last_used_at=now
        )
        if not counted:
            tokens.update(window_started_at=now, requests_in_window=texts, last_used_at=now)
        window_started_at, used = tokens.values_list(
            "window_started_at", "requests_in_window"
        ).get()
    if used <= limit.requests or window_started_at is None:
        return None
    return max(1, math.ceil((window_started_at + window - now).total_seconds()))
