import functools

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
