"""Every failure of /v1alpha1/ in Google's error format, as Perspective answers it:
`{"error": {"code", "message", "status", "details"}}`, never an HTML page.

Messages keep Perspective's wording where it has one (clients match on "API key not valid",
"does not support request languages", "Quota exceeded"); docs/perspective.md lists them.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from analyzer import db_retry, metrics, services, workload
from analyzer.api.failures import RETRY_AFTER_HEADER, documented_responses
from analyzer.api.v1_errors import RateLimited, UnsupportedMediaType
from analyzer.comments import CommentRefused

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
SERVICE = "toxmon"
# google.rpc.Code names by HTTP status, as Google's JSON errors carry them. 405 is
# grpc-gateway's answer to a method the path does not serve.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class KeyInvalid(Exception):
    """A ?key= that is no active API token."""


class BearerInvalid(Exception):
    """An Authorization: Bearer token that is no active API token."""


def google_error(
    *,
    code: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """Return Google's JSON error with this HTTP status."""
    error: dict[str, Any] = {"code": code, "message": message, "status": STATUS_NAMES[code]}
    if details:
        error["details"] = details
    response = JsonResponse({"error": error}, status=code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_info(*, reason: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": SERVICE, **metadata},
    }


def key_invalid(request: HttpRequest, error: KeyInvalid) -> HttpResponse:
    # Perspective answers a bad key with 400, not 401: clients expect this exact body.
    return google_error(
        code=400,
        message="API key not valid. Please pass a valid API key.",
        details=[error_info(reason="API_KEY_INVALID")],
    )


def bearer_invalid(request: HttpRequest, error: BearerInvalid) -> HttpResponse:
    return google_error(
        code=401,
        message="Request had invalid authentication credentials. "
        "Send an active toxmon API token as `Authorization: Bearer <key>` or `?key=<key>`.",
        headers={"WWW-Authenticate": 'Bearer realm="toxmon"'},
    )


def key_missing(request: HttpRequest, error: Exception) -> HttpResponse:
    return google_error(code=403, message="The request is missing a valid API key.")


def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    limit = settings.TOXMON_API_RATE_LIMIT
    return google_error(
        code=429,
        message=f"Quota exceeded for quota metric 'Analysis requests' and limit '{limit}' "
        f"of this API key. Retry in {error.retry_after} s.",
        details=[
            error_info(reason="RATE_LIMIT_EXCEEDED", quota_limit_value=limit),
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{error.retry_after}s",
            },
        ],
        headers={"Retry-After": str(error.retry_after)},
    )


def body_too_large(request: HttpRequest, error: Exception) -> HttpResponse:
    # Django's own limit, behind the per-route one the request size middleware enforces first.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return google_error(code=400, message=f"Request payload size exceeds the limit: {limit} bytes.")


def unreadable_body(request: HttpRequest, error: HttpError) -> HttpResponse:
    # ninja wraps whatever the parser raised in an HttpError(400); the cause tells which.
    cause = error.__cause__
    if isinstance(cause, UnsupportedMediaType):
        reason = f"Send the body as application/json, not {cause.args[0] or 'nothing'}"
    elif isinstance(cause, ValueError | RecursionError):
        reason = str(cause)
    else:
        logger.error("Perspective API error on %s %s: %s", request.method, request.path, error)
        reason = "The body could not be read"
    return google_error(code=400, message=f"Invalid JSON payload received. {reason}.")


def refused(request: HttpRequest, error: CommentRefused) -> HttpResponse:
    details = None
    if error.error_type is not None:
        details = [{"@type": ERROR_TYPE, "errorType": error.error_type, **error.detail}]
    return google_error(code=400, message=error.message, details=details)


def field_path(location: tuple[object, ...]) -> str:
    """Return a field as the client wrote it: comment.text, requestedAttributes.TOXICITY."""
    # ninja puts the source and the parameter first: ("body", "payload", "comment", "text").
    parts = location[2:]
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(
        "."
    )


# A part of the request that is missing altogether gets Perspective's message for it empty.
MISSING = {
    "": CommentRefused("Comment must be non-empty.", error_type="COMMENT_EMPTY"),
    "comment": CommentRefused("Comment must be non-empty.", error_type="COMMENT_EMPTY"),
    "comment.text": CommentRefused("Comment must be non-empty.", error_type="COMMENT_EMPTY"),
    "requestedAttributes": CommentRefused(
        "Missing requested_attributes", error_type="NO_REQUESTED_ATTRIBUTES"
    ),
    "attributeScores": CommentRefused("Missing attribute_scores"),
}


def violation_message(error: dict[str, Any], field: str) -> str:
    if error["type"] == "extra_forbidden":
        parent, _, name = field.rpartition(".")
        where = f" at '{parent}'" if parent else ""
        return f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
    if error["type"] == "model_attributes_type" and not field:
        return "Invalid JSON payload received. The body must be a JSON object."
    return f"Invalid value at '{field or '(body)'}': {error['msg']}"


def invalid_fields(request: HttpRequest, error: ValidationError) -> HttpResponse:
    # Perspective names one problem; the first, as the fields come in the request's order.
    first = error.errors[0]
    field = field_path(tuple(first["loc"]))
    if first["type"] == "missing" and field in MISSING:
        return refused(request, MISSING[field])
    violations = [
        {"field": field_path(tuple(e["loc"])), "description": str(e["msg"])} for e in error.errors
    ]
    return google_error(
        code=400,
        message=violation_message(first, field),
        details=[
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}
        ],
    )


def model_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    return google_error(
        code=503,
        message="The model could not score the comment; nothing was stored. Try again later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def worker_busy(request: HttpRequest, error: workload.WorkerBusy) -> HttpResponse:
    return google_error(
        code=503,
        message=f"The server is busy; nothing was stored. Try again in {error.retry_after} s.",
        headers={"Retry-After": str(error.retry_after)},
    )


def too_much_work(request: HttpRequest, error: workload.TooMuchWork) -> HttpResponse:
    # Only a server whose TOXMON_WORKER_MAX_WINDOWS is under what a 20,480-byte comment needs.
    return google_error(
        code=400,
        message=f"The comment is about {error.windows:.0f} model windows of work; this server "
        f"takes at most {error.limit} at once. Send a shorter comment.",
    )


def database_busy(request: HttpRequest, error: Exception) -> HttpResponse:
    if not isinstance(error, db_retry.DatabaseBusy):
        # Not tried again by a service (a token count): counted here instead.
        metrics.database_busy(operation="request")
    logger.warning("%s %s: database busy, answered 503: %s", request.method, request.path, error)
    return google_error(
        code=503,
        message="The database is busy; nothing was stored. Send the request again.",
        headers={"Retry-After": str(db_retry.RETRY_AFTER_SECONDS)},
    )


def server_error(request: HttpRequest, error: Exception) -> HttpResponse:
    if db_retry.is_busy(error):
        return database_busy(request, error)
    logger.exception("Perspective API error on %s %s", request.method, request.path)
    return google_error(code=500, message="Something went wrong on the server; it has been logged.")


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Answer any other path under /v1alpha1/ in Google's format, never an HTML page."""
    return google_error(
        code=404,
        message=f"There is no method at {request.path}: toxmon serves "
        "/v1alpha1/comments:analyze and /v1alpha1/comments:suggestscore.",
    )


def api_not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return not_found(request)


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return google_error(
        code=405,
        message=f"{request.method} is not allowed on {request.path}; use POST.",
        headers={"Allow": "POST"},
    )


HANDLERS: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
    KeyInvalid: key_invalid,
    BearerInvalid: bearer_invalid,
    AuthenticationError: key_missing,
    RateLimited: rate_limited,
    RequestDataTooBig: body_too_large,
    HttpError: unreadable_body,
    ValidationError: invalid_fields,
    CommentRefused: refused,
    workload.WorkerBusy: worker_busy,
    workload.TooMuchWork: too_much_work,
    services.PredictionFailed: model_unavailable,
    db_retry.DatabaseBusy: database_busy,
    Http404: api_not_found,
    Exception: server_error,
}


ERROR_DESCRIPTIONS = {
    "400": "INVALID_ARGUMENT: a bad key, unreadable JSON, or a request Perspective would "
    "refuse (empty or over-long comment, unknown attribute, unsupported language, ...).",
    "401": "UNAUTHENTICATED: an `Authorization: Bearer` token that is not an active key.",
    "403": "PERMISSION_DENIED: no key at all.",
    "429": "RESOURCE_EXHAUSTED: the key is over its rate limit.",
    "503": "UNAVAILABLE: the model could not score, or the server is busy; nothing was stored.",
}
ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {"description": "The scheme: Bearer.", "schema": {"type": "string"}}
    },
    "429": {"Retry-After": RETRY_AFTER_HEADER},
    "503": {"Retry-After": RETRY_AFTER_HEADER},
}


def openapi_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Describe each error response of the document, with its headers."""
    for status, response in documented_responses(document):
        if status in ERROR_DESCRIPTIONS:
            response["description"] = ERROR_DESCRIPTIONS[status]
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
    return document
