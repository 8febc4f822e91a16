"""Perspective API's comments:analyze and comments:suggestscore under /v1alpha1/, on django-ninja,
so a Perspective client moves to toxmon by changing its base URL (docs/perspective.md).

A second NinjaAPI beside /api/v1/: its own key checks (Perspective's `?key=`, or a bearer token),
the same API tokens and rate limit, and every error in Google's format.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.security import APIKeyQuery, HttpBearer

from analyzer import comments, workload
from analyzer.api import perspective_errors
from analyzer.api.failures import handlers_register
from analyzer.api.perspective_errors import HANDLERS, BearerInvalid, KeyInvalid
from analyzer.api.perspective_schemas import (
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    GoogleError,
    SuggestCommentScoreRequest,
    SuggestCommentScoreResponse,
)
from analyzer.api.v1 import JsonBody
from analyzer.api.v1_errors import RateLimited
from analyzer.models import ApiToken
from analyzer.tokens import token_authenticate, token_work_count


def token_counted(token: ApiToken) -> ApiToken:
    """Count one comment against the token's limit of texts; raise when it is over."""
    retry_after = token_work_count(token=token, texts=1)
    if retry_after is not None:
        raise RateLimited(retry_after)
    return token


class KeyQuery(APIKeyQuery):
    """Perspective's `?key=<key>`, a toxmon API token."""

    param_name = "key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiToken | None:
        if not key:
            return None
        token = token_authenticate(authorization=f"Bearer {key}")
        if token is None:
            raise KeyInvalid
        return token_counted(token)


class BearerToken(HttpBearer):
    """`Authorization: Bearer <key>`, as on /api/v1/."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(authorization=f"Bearer {token}")
        if api_token is None:
            raise BearerInvalid
        return token_counted(api_token)


class PerspectiveAPI(NinjaAPI):
    """A NinjaAPI whose document describes its errors in Google's format."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return perspective_errors.openapi_errors(super().get_openapi_schema(**kwargs))

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """Raise a refusal the schemas raised as itself, so it keeps Perspective's wording."""
        # ninja turns a validator's exception into its message; Perspective names one problem,
        # the first, so only that one needs to be looked at before it does.
        if error_contexts:
            [first, *_] = error_contexts[0].pydantic_validation_error.errors()
            cause = first.get("ctx", {}).get("error")
            if isinstance(cause, comments.CommentRefused):
                raise cause
        return super().validation_error_from_error_contexts(error_contexts)


api = PerspectiveAPI(
    title="toxmon: Perspective API compatible",
    version="v1alpha1",
    description=(
        "Perspective API's AnalyzeComment and SuggestCommentScore, answered by the model toxmon "
        "serves. Send a toxmon API token as `?key=<key>` (as Perspective clients do) or "
        '`Authorization: Bearer <key>`. Errors are Google\'s `{"error": {code, message, '
        "status}}`. Details: docs/perspective.md."
    ),
    urls_namespace="perspective",
    parser=JsonBody(),
    auth=[KeyQuery(), BearerToken()],
    docs_url=None,
)
handlers_register(api, HANDLERS)

ERROR_STATUSES = frozenset({400, 401, 403, 429, 503})


@api.post(
    "/comments:analyze",
    response={200: AnalyzeCommentResponse, ERROR_STATUSES: GoogleError},
    operation_id="commentanalyzer.comments.analyze",
    summary="Score a comment for Perspective's attributes (AnalyzeComment).",
    url_name="analyze",
    exclude_unset=True,
    openapi_extra={"responses": {200: {"description": "The scores, as Perspective answers."}}},
)
def analyze(request: HttpRequest, payload: AnalyzeCommentRequest) -> dict[str, Any]:
    # A worker takes on a bounded amount of model work at once, as for /api/v1/; asking for
    # spans scores each sentence again. WorkerBusy and TooMuchWork answer 503 and 400.
    work = workload.work_estimate(texts=[payload.comment.text])
    with workload.work_admitted(windows=work * 2 if payload.spanAnnotations else work):
        result = comments.comment_analyze(
            text=payload.comment.text,
            thresholds={
                name: parameters.scoreThreshold
                for name, parameters in payload.requestedAttributes.items()
            },
            spans=bool(payload.spanAnnotations),
            languages=payload.languages or [],
            drop_unsupported=bool(payload.dropUnsupportedAttributes),
            store=not payload.doNotStore,
            session_id=payload.sessionId or "",
            community_id=payload.communityId or "",
            client_token=payload.clientToken or "",
        )
    # proto3's JSON leaves out what is empty: no spanScores unless asked, no clientToken unless
    # sent, no attributeScores when every score fell under its threshold.
    body: dict[str, Any] = {"languages": result.languages}
    attribute_scores = {}
    for name, scores in result.attribute_scores.items():
        entry: dict[str, Any] = {"summaryScore": probability(scores.summary)}
        if scores.spans:
            entry["spanScores"] = [
                {"begin": span.begin, "end": span.end, "score": probability(span.score)}
                for span in scores.spans
            ]
        attribute_scores[name] = entry
    if attribute_scores:
        body["attributeScores"] = attribute_scores
    if result.detected_languages:
        body["detectedLanguages"] = result.detected_languages
    if payload.clientToken:
        body["clientToken"] = payload.clientToken
    return body


def probability(value: float) -> dict[str, Any]:
    return {"value": value, "type": "PROBABILITY"}


@api.post(
    "/comments:suggestscore",
    response={200: SuggestCommentScoreResponse, ERROR_STATUSES: GoogleError},
    operation_id="commentanalyzer.comments.suggestscore",
    summary="Keep the scores a person thinks a comment should have (SuggestCommentScore).",
    url_name="suggestscore",
    exclude_unset=True,
    openapi_extra={"responses": {200: {"description": "Kept; the clientToken echoed."}}},
)
def suggestscore(request: HttpRequest, payload: SuggestCommentScoreRequest) -> dict[str, Any]:
    comments.comment_score_suggest(
        text=payload.comment.text,
        scores={
            name: scores.summaryScore.value
            for name, scores in payload.attributeScores.items()
            if scores.summaryScore is not None
        },
        span_scores={
            name: [
                comments.SpanScore(begin=span.begin, end=span.end, score=span.score.value)
                for span in scores.spanScores
            ]
            for name, scores in payload.attributeScores.items()
            if scores.spanScores
        },
        client_token=payload.clientToken or "",
        community_id=payload.communityId or "",
    )
    return {"clientToken": payload.clientToken} if payload.clientToken else {}


@api.api_operation(
    ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
    "/comments:analyze",
    auth=None,
    include_in_schema=False,
)
def analyze_other_methods(request: HttpRequest) -> HttpResponse:
    return perspective_errors.method_not_allowed(request)


@api.api_operation(
    ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
    "/comments:suggestscore",
    auth=None,
    include_in_schema=False,
)
def suggestscore_other_methods(request: HttpRequest) -> HttpResponse:
    return perspective_errors.method_not_allowed(request)
