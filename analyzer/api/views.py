"""The JSON API, /api/v1/: thin views; every error is a problem details response."""

import functools
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from analyzer import explain, services
from analyzer.api import openapi
from analyzer.api.problems import problem
from analyzer.api.requests import AnalyzeRequest, analyze_request_clean
from analyzer.engines import loader
from analyzer.models import Analysis, Source
from analyzer.tokens import token_authenticate, token_request_count

logger = logging.getLogger(__name__)

ApiView = Callable[..., HttpResponse]


class Problem(Exception):
    """Stop the request with this problem details response."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.content)
        self.response = response


def api_view(*, methods: list[str], authenticated: bool = True) -> Callable[[ApiView], ApiView]:
    """Check method, token and rate limit; turn every failure into a problem response."""

    def decorator(view: ApiView) -> ApiView:
        @csrf_exempt  # Bearer tokens, not cookies: there is no session to forge requests with.
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise Problem(method_not_allowed(methods))
                if authenticated:
                    authenticate(request)
                return view(request, *args, **kwargs)
            except Problem as stop:
                return stop.response
            except Exception:
                logger.exception("API error on %s %s", request.method, request.path)
                return problem(
                    status=500,
                    kind="server-error",
                    detail="Something went wrong on the server; it has been logged.",
                )

        return wrapper

    return decorator


def method_not_allowed(methods: list[str]) -> HttpResponse:
    return problem(
        status=405,
        kind="method-not-allowed",
        detail=f"Use {' or '.join(methods)}.",
        headers={"Allow": ", ".join(methods)},
    )


def authenticate(request: HttpRequest) -> None:
    """Raise a 401 without an active token, a 429 when the token is over its limit."""
    token = token_authenticate(authorization=request.headers.get("Authorization", ""))
    if token is None:
        raise Problem(
            problem(
                status=401,
                kind="unauthenticated",
                detail="Send an active API token as `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": 'Bearer realm="toxmon"'},
            )
        )
    retry_after = token_request_count(token=token)
    if retry_after is not None:
        raise Problem(
            problem(
                status=429,
                kind="rate-limited",
                detail=f"This token is over its limit of {settings.TOXMON_API_RATE_LIMIT}; "
                f"retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
        )


def reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def json_body(request: HttpRequest) -> object:
    """Return the parsed JSON body, or raise 415, 413 or 400."""
    media_type = request.content_type or ""
    if media_type.lower() != "application/json":
        raise Problem(
            problem(
                status=415,
                kind="unsupported-media-type",
                detail=f"Send the body as application/json, not {media_type or 'nothing'}.",
            )
        )
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        body = request.body
    except RequestDataTooBig:
        raise Problem(
            problem(
                status=413,
                kind="body-too-large",
                detail=f"The body is over {limit:,} bytes; send fewer or shorter texts.",
            )
        ) from None
    try:
        return json.loads(body, parse_constant=reject_constant)
    except (ValueError, RecursionError) as error:
        raise Problem(
            problem(status=400, kind="malformed-json", detail=f"The body is not JSON: {error}")
        ) from None


def analyze_request(payload: object) -> AnalyzeRequest:
    try:
        return analyze_request_clean(payload)
    except ValidationError as error:
        errors = [
            {"field": field, "detail": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
        raise Problem(
            problem(
                status=422,
                kind="invalid-fields",
                detail="Invalid: " + ", ".join(dict.fromkeys(e["field"] for e in errors)) + ".",
                errors=errors,
            )
        ) from None


def result_json(analysis: Analysis, spans: list[explain.Span] | None) -> dict[str, object]:
    result: dict[str, object] = {
        "id": analysis.pk,
        "scores": analysis.scores,
        "verdict": analysis.verdict,
        "top_label": analysis.top_label,
        "max_score": analysis.max_score,
        "windows": analysis.windows,
        "language": services.language_check(analysis=analysis).as_dict(),
    }
    if spans is not None:
        result["spans"] = [span.as_dict() for span in spans]
    return result


@api_view(methods=["POST"])
def analyze(request: HttpRequest) -> HttpResponse:
    payload = analyze_request(json_body(request))
    try:
        analyses = services.analyses_build(texts=payload.texts, source=Source.API)
        spans = explain.explanations_build(analyses=analyses) if payload.explain else None
    except services.PredictionFailed:
        return problem(
            status=503,
            kind="model-unavailable",
            detail="The model could not score the texts; nothing was stored. Try again later.",
            headers={"Retry-After": "30"},
        )
    # Stored only once the explanation, too, has succeeded: a 503 promises nothing was stored.
    if payload.store:
        services.analyses_save(analyses=analyses)
    return JsonResponse(
        {
            "engine": analyses[0].engine,
            "model": analyses[0].model_name,
            "fallback": loader.engine_get().fallback,
            "threshold": analyses[0].threshold,
            "latency_ms": analyses[0].latency_ms,
            "stored": payload.store,
            "results": [
                result_json(analysis, spans[index] if spans is not None else None)
                for index, analysis in enumerate(analyses)
            ],
        }
    )


@api_view(methods=["GET", "HEAD"], authenticated=False)
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi.openapi_document())


@api_view(methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], authenticated=False)
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return problem(
        status=404,
        kind="not-found",
        detail=f"There is no API endpoint at {request.path}; see /api/v1/openapi.json.",
    )
