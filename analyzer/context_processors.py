from django.conf import settings
from django.http import HttpRequest

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
