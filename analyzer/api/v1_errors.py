"""Every failure of /api/v1/ as a problem details response (RFC 9457), and the document's
description of those responses."""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from analyzer import db_retry, metrics, services, workload
from analyzer.api.failures import RETRY_AFTER_HEADER, documented_responses
from analyzer.api.problems import PROBLEM_CONTENT_TYPE, problem

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class UnsupportedMediaType(Exception):
    """The body is not application/json."""


class RateLimited(Exception):
    """The token is over its limit; retry after this many seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(
        status=401,
        kind="unauthenticated",
        detail="Send an active API token as `Authorization: Bearer <key>`.",
        headers={"WWW-Authenticate": 'Bearer realm="toxmon"'},
    )


def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    return problem(
        status=429,
        kind="rate-limited",
        detail=f"This token is over its limit of {settings.TOXMON_API_RATE_LIMIT} texts; "
        f"retry in {error.retry_after} s.",
        headers={"Retry-After": str(error.retry_after)},
    )


def body_too_large(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(
        status=413,
        kind="body-too-large",
        # Django's own limit, behind the per-route one the request size middleware enforces.
        detail=f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes; "
        "send fewer or shorter texts.",
    )


def too_much_work(request: HttpRequest, error: workload.TooMuchWork) -> HttpResponse:
    return problem(
        status=413,
        kind="too-much-work",
        detail=f"These texts are about {error.windows:.0f} model windows of work; one "
        f"request may bring {error.limit}. Send fewer or shorter texts, or fewer with explain.",
    )


def worker_busy(request: HttpRequest, error: workload.WorkerBusy) -> HttpResponse:
    return problem(
        status=503,
        kind="busy",
        detail="This server has as much work queued as it takes; nothing was stored. "
        f"Retry in {error.retry_after} s.",
        headers={"Retry-After": str(error.retry_after)},
    )


def unreadable_body(request: HttpRequest, error: HttpError) -> HttpResponse:
    # ninja wraps whatever the parser raised in an HttpError(400); the cause tells which.
    cause = error.__cause__
    if isinstance(cause, UnsupportedMediaType):
        return problem(
            status=415,
            kind="unsupported-media-type",
            detail=f"Send the body as application/json, not {cause.args[0] or 'nothing'}.",
        )
    if isinstance(cause, ValueError | RecursionError):
        return problem(status=400, kind="malformed-json", detail=f"The body is not JSON: {cause}")
    logger.error(
        "API error %s on %s %s: %s", error.status_code, request.method, request.path, error
    )
    return problem(status=400, kind="malformed-json", detail="The body could not be read.")


def field_name(location: tuple[object, ...]) -> str:
    """Return the name of a field as clients write it: texts[3], store, (body)."""
    # ninja puts the source and the parameter first: ("body", "payload", "texts", 3).
    parts = location[2:]
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)
    return name.lstrip(".") or "(body)"


def error_detail(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "Unknown field; the fields are texts, store and explain."
    if error["type"] == "model_attributes_type":
        return "The body must be a JSON object."
    # Our validators' messages come as "Value error, <message>".
    return str(error["msg"]).removeprefix("Value error, ")


def invalid_fields(request: HttpRequest, error: ValidationError) -> HttpResponse:
    if any(e["type"] == "missing" and len(e["loc"]) <= 2 for e in error.errors):
        return problem(status=400, kind="malformed-json", detail="The body is empty; send JSON.")
    errors = [
        {"field": field_name(tuple(e["loc"])), "detail": error_detail(e)} for e in error.errors
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(status=422, kind="invalid-fields", detail=f"Invalid: {fields}.", errors=errors)


def model_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(
        status=503,
        kind="model-unavailable",
        detail="The model could not score the texts; nothing was stored. Try again later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def model_busy(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(
        status=503,
        kind="model-busy",
        detail=(
            "The model was busy with analyses, so the texts were not explained; nothing was "
            "stored. Try again in a moment, or without explain."
        ),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def api_not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return not_found(request)


def server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    if db_retry.is_busy(error):
        return database_busy(request, error)
    logger.exception("API error on %s %s", request.method, request.path)
    return problem(
        status=500,
        kind="server-error",
        detail="Something went wrong on the server; it has been logged.",
    )


def database_busy(request: HttpRequest, error: Exception) -> HttpResponse:
    if not isinstance(error, db_retry.DatabaseBusy):
        # Not tried again by a service (a token count): counted here instead.
        metrics.database_busy(operation="request")
    logger.warning("%s %s: database busy, answered 503: %s", request.method, request.path, error)
    return problem(
        status=503,
        kind="database-busy",
        detail="The database is busy; nothing was stored. Send the request again.",
        headers={"Retry-After": str(db_retry.RETRY_AFTER_SECONDS)},
    )


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Answer any other path under /api/ with a problem, never an HTML page."""
    return problem(
        status=404,
        kind="not-found",
        detail=f"There is no API endpoint at {request.path}; see /api/v1/openapi.json.",
    )


PROBLEM_DESCRIPTIONS = {
    "400": "The body is not JSON.",
    "401": "No token, an unknown one, or a revoked one.",
    "405": "Only POST is allowed.",
    "413": f"The body is over {settings.TOXMON_API_MAX_BYTES} bytes (`body-too-large`), or the "
    "texts are more model work than one request may bring (`too-much-work`).",
    "415": "The body is not application/json.",
    "422": "Fields are missing or invalid; `errors` names each one.",
    "429": "The token is over its limit of texts.",
    "503": "The model is unavailable (`model-unavailable`) or too busy with analyses to explain "
    "(`model-busy`), the server has as much work queued as it takes (`busy`), or the database "
    "stayed busy (`database-busy`); nothing was stored.",
}
PROBLEM_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to use: Bearer.",
            "schema": {"type": "string"},
        }
    },
    "429": {"Retry-After": RETRY_AFTER_HEADER},
    "503": {"Retry-After": RETRY_AFTER_HEADER},
}


def openapi_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Serve the problem responses as application/problem+json, with their headers."""
    for status, response in documented_responses(document):
        if status not in PROBLEM_DESCRIPTIONS:
            continue
        content = response.get("content", {})
        schema = content.pop("application/json", {}).get("schema")
        content[PROBLEM_CONTENT_TYPE] = {"schema": schema}
        response["description"] = PROBLEM_DESCRIPTIONS[status]
        if status in PROBLEM_HEADERS:
            response["headers"] = PROBLEM_HEADERS[status]
    return document


HANDLERS: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
    AuthenticationError: unauthenticated,
    RateLimited: rate_limited,
    RequestDataTooBig: body_too_large,
    workload.TooMuchWork: too_much_work,
    workload.WorkerBusy: worker_busy,
    HttpError: unreadable_body,
    ValidationError: invalid_fields,
    services.ModelBusy: model_busy,
    services.PredictionFailed: model_unavailable,
    db_retry.DatabaseBusy: database_busy,
    Http404: api_not_found,
    Exception: server_error,
}
