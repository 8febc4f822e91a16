"""Errors of the JSON API as problem details (RFC 9457)."""

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Each problem type is a URI reference; docs/api.md describes every one.
PROBLEM_BASE = "/api/v1/problems/"

TITLES = {
    "malformed-json": "Malformed JSON",
    "unauthenticated": "Missing or invalid API token",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "body-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "invalid-fields": "Invalid fields",
    "rate-limited": "Too many requests",
    "too-much-work": "Too much work for one request",
    "busy": "Server busy",
    "model-unavailable": "Model unavailable",
    "database-busy": "Database busy",
    "model-busy": "Model too busy to explain",
    "server-error": "Internal server error",
}


def problem(
    *,
    status: int,
    kind: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: object,
) -> JsonResponse:
    """Return a problem details response of the given kind (a key of TITLES)."""
    body = {
        "type": PROBLEM_BASE + kind,
        "title": TITLES[kind],
        "status": status,
        "detail": detail,
        **extensions,
    }
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
