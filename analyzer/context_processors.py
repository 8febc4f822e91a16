import functools

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse

from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable


def engine(request: HttpRequest) -> dict[str, object]:
    """Name the engine on every page, so a fallback cannot go unnoticed."""
    try:
        return {"engine": loader.engine_get()}
    except ModelUnavailable:
        return {"engine": None}


def retention(request: HttpRequest) -> dict[str, object]:
    """Say on the pages how long texts are kept (TOXMON_RETENTION_DAYS; None: until deleted)."""
    return {"retention_days": settings.TOXMON_RETENTION_DAYS}


@functools.cache
def _links(script_prefix: str) -> dict[str, str]:
    # Reversing a URL or hashing a static name costs about as much as rendering ten variables,
    # and every page of the process asks for the same ones: done once per prefix instead.
    return {
        "analyze": reverse("analyzer:analyze"),
        "batches": reverse("analyzer:batch_upload"),
        "past_analyses": reverse("admin:analyzer_analysis_changelist"),
        "stylesheet": static("css/toxmon.css"),
        "icon": static("favicon.svg"),
    }


def links(request: HttpRequest) -> dict[str, object]:
    """Give every page the links of the site's header and head, worked out once."""
    return {"links": _links(get_script_prefix())}
