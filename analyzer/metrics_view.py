"""The /metrics view: every worker's metrics, for the clients allowed to read them."""

import hmac
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from analyzer.networks import Network, address_in, networks_parse

logger = logging.getLogger(__name__)


def allowed_networks() -> list[Network]:
    """Return the networks of TOXMON_METRICS_ALLOWED_IPS."""
    try:
        return networks_parse(
            settings.TOXMON_METRICS_ALLOWED_IPS, setting="TOXMON_METRICS_ALLOWED_IPS"
        )
    except ValueError as error:
        raise ImproperlyConfigured(str(error)) from error


def client_allowed(remote_addr: str) -> bool:
    """Return whether a client at remote_addr may read the metrics."""
    return address_in(remote_addr, allowed_networks())


def token_given(request: HttpRequest) -> bool:
    """Return whether the request carries TOXMON_METRICS_TOKEN, or none is required."""
    expected = settings.TOXMON_METRICS_TOKEN
    if not expected:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


@require_GET
def metrics_export(request: HttpRequest) -> HttpResponse:
    """Serve the metrics of every worker to allowed clients with the token, 403/401 to others."""
    # REMOTE_ADDR, never X-Forwarded-For: a client can write that header itself.
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not client_allowed(remote_addr):
        logger.warning("Refused /metrics to %s (not in TOXMON_METRICS_ALLOWED_IPS)", remote_addr)
        return HttpResponseForbidden(
            "Metrics are served only to the addresses in TOXMON_METRICS_ALLOWED_IPS.\n",
            content_type="text/plain",
        )
    if not token_given(request):
        logger.warning("Refused /metrics to %s (no or wrong TOXMON_METRICS_TOKEN)", remote_addr)
        return HttpResponse(
            "Metrics need `Authorization: Bearer <TOXMON_METRICS_TOKEN>`.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="toxmon metrics"'},
        )
    response: HttpResponse = ExportToDjangoView(request)
    return response
