"""Answer 503 with Retry-After, never 500, when a request meets a database that stays busy."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analyzer import db_retry, metrics
from analyzer.api.problems import problem

logger = logging.getLogger(__name__)

# Everything under this path is the JSON API, whose errors are problem details.
API_PREFIX = "/api/"


class DatabaseBusyMiddleware:
    """Turn a busy database into a 503 page (or problem) for any view that does not itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not db_retry.is_busy(exception):
            return None
        if not isinstance(exception, db_retry.DatabaseBusy):
            # Not tried again by a service (a session, a token count): counted here instead.
            metrics.database_busy(operation="request")
        logger.warning(
            "%s %s: database busy, answered 503: %s", request.method, request.path, exception
        )
        retry_after = {"Retry-After": str(db_retry.RETRY_AFTER_SECONDS)}
        if request.path.startswith(API_PREFIX):
            return problem(
                status=503,
                kind="database-busy",
                detail="The database is busy; nothing was stored. Send the request again.",
                headers=retry_after,
            )
        page = render(request, "analyzer/busy.html", status=503)
        page["Retry-After"] = retry_after["Retry-After"]
        return page
