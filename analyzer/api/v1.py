"""The JSON API, /api/v1/, on django-ninja: thin operations; every error is a problem details
response (RFC 9457), whatever raised it.

The schemas in v1_schemas.py validate the requests and generate the OpenAPI document. Each API
is its own NinjaAPI with its own error handlers, so another API can answer in another format.
"""

import dataclasses
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.security import HttpBearer

from analyzer import explain, language_checks, services, workload
from analyzer.api.failures import handlers_register
from analyzer.api.problems import problem
from analyzer.api.v1_errors import HANDLERS, RateLimited, UnsupportedMediaType, openapi_problems
from analyzer.api.v1_schemas import AnalyzeRequest, AnalyzeResponse, Problem
from analyzer.engines import loader
from analyzer.models import ApiToken, Source
from analyzer.tokens import token_authenticate, token_work_count


def reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class JsonBody(Parser):
    """Read only application/json bodies, and only strict JSON (no NaN or Infinity)."""

    def parse_body(self, request: HttpRequest) -> Any:
        media_type = request.content_type or ""
        if media_type.lower() != "application/json":
            raise UnsupportedMediaType(media_type)
        return json.loads(request.body, parse_constant=reject_constant)


class TokenAuth(HttpBearer):
    """An active API token; its texts are counted once the body says how many."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_authenticate(authorization=f"Bearer {token}")


def texts_count(*, token: ApiToken, texts: int) -> None:
    """Count the texts against the token's limit; raise RateLimited when it is over."""
    retry_after = token_work_count(token=token, texts=texts)
    if retry_after is not None:
        raise RateLimited(retry_after)


class ProblemsAPI(NinjaAPI):
    """A NinjaAPI whose document says its error responses are problem details."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return openapi_problems(super().get_openapi_schema(**kwargs))


api = ProblemsAPI(
    title="toxmon API",
    version="1.0.0",
    description=(
        "Score texts for toxicity with the model the server runs. Authenticate with "
        "`Authorization: Bearer <key>`; errors are problem details (RFC 9457)."
    ),
    urls_namespace="api_v1",
    parser=JsonBody(),
    auth=TokenAuth(),
    # Swagger UI would load from a CDN, which the strict CSP refuses: the document only.
    docs_url=None,
)
handlers_register(api, HANDLERS)

PROBLEM_STATUSES = frozenset({400, 401, 405, 413, 415, 422, 429, 503})


@api.post(
    "/analyze",
    response={200: AnalyzeResponse, PROBLEM_STATUSES: Problem},
    operation_id="analyze",
    summary="Score 1 to 32 texts, optionally explain them word by word.",
    url_name="analyze",
    exclude_unset=True,
    openapi_extra={
        "responses": {200: {"description": "The scores of each text, in the order sent."}}
    },
)
def analyze(request: HttpRequest, payload: AnalyzeRequest) -> dict[str, Any]:
    texts_count(token=request.auth, texts=len(payload.texts))  # type: ignore[attr-defined]
    # An API client asked for the explanation and pays for it in its limit of texts: it waits
    # behind the analyses for the model instead of being refused as the page's would be.
    budget = dataclasses.replace(explain.budget_default(), wait_seconds=None)
    work = workload.work_estimate(
        texts=payload.texts, explain_spans=budget.spans if payload.explain else 0
    )
    # TooMuchWork and WorkerBusy become 413 and 503 problems (v1_errors).
    with workload.work_admitted(windows=work):
        analyses = services.analyses_build(texts=payload.texts, source=Source.API)
        explanations = (
            explain.explanations_build(analyses=analyses, budget=budget)
            if payload.explain
            else None
        )
    # Stored only once the explanation, too, has succeeded: a 503 promises nothing was stored.
    if payload.store:
        services.analyses_save(analyses=analyses)
    results = []
    for index, analysis in enumerate(analyses):
        result: dict[str, Any] = {
            "id": analysis.pk,
            "scores": analysis.scores,
            "verdict": analysis.verdict,
            "action": analysis.action,
            "top_label": analysis.top_label,
            "max_score": analysis.max_score,
            "windows": analysis.windows,
            "language": language_checks.language_check(analysis=analysis).as_dict(),
        }
        if explanations is not None:
            result["spans"] = [span.as_dict() for span in explanations[index].spans]
        results.append(result)
    return {
        "engine": analyses[0].engine,
        "model": analyses[0].model_name,
        "fallback": loader.engine_get().fallback,
        "threshold": analyses[0].threshold,
        "policy_version": analyses[0].policy_version_id,
        "latency_ms": analyses[0].latency_ms,
        "stored": payload.store,
        "results": results,
    }


@api.api_operation(
    ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "/analyze",
    auth=None,
    include_in_schema=False,
)
def analyze_other_methods(request: HttpRequest) -> HttpResponse:
    return problem(
        status=405,
        kind="method-not-allowed",
        detail="Use POST.",
        headers={"Allow": "POST"},
    )
