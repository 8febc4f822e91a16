"""Per-client rate limits of the form and batch uploads, counted in the shared cache.

django-ratelimit keeps the counts in Django's default cache (the database's cache table, or
Redis), so every worker and replica counts the same client together.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from analyzer.networks import Network, client_address, networks_parse


def trusted_proxies() -> list[Network]:
    """Return the networks of TOXMON_TRUSTED_PROXIES."""
    try:
        return networks_parse(settings.TOXMON_TRUSTED_PROXIES, setting="TOXMON_TRUSTED_PROXIES")
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from error


def client_ip(request: HttpRequest) -> str:
    """Return the address of the client that sent the request (also used by django-axes)."""
    return client_address(
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted=trusted_proxies(),
    )


def client_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def client_post_count(*, request: HttpRequest, group: str, rate: str) -> int | None:
    """Count one post of the client against rate; return the seconds to wait when over it."""
    usage = get_usage(
        request, group=group, key=client_key, rate=rate, method="POST", increment=True
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))
