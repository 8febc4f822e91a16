"""The OpenAPI document of /api/v1/ is generated from the schemas that validate the API."""

import pytest
from django.conf import settings
from django.urls import reverse

from analyzer.api import v1_schemas

pytestmark = pytest.mark.django_db

SCHEMAS = [
    v1_schemas.AnalyzeRequest,
    v1_schemas.AnalyzeResponse,
    v1_schemas.ResultOut,
    v1_schemas.SpanOut,
    v1_schemas.LanguageOut,
    v1_schemas.Problem,
]


@pytest.fixture
def document(client):
    response = client.get(reverse("api_v1:openapi-json"))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.__name__)
def test_the_document_describes_each_schema_exactly_as_it_validates(document, schema):
    expected = schema.model_json_schema(ref_template="#/components/schemas/{model}")
    expected.pop("$defs", None)
    assert document["components"]["schemas"][schema.__name__] == expected


def test_the_request_limits_in_the_document_are_the_ones_enforced(document):
    request = document["components"]["schemas"]["AnalyzeRequest"]
    texts = request["properties"]["texts"]
    assert (texts["minItems"], texts["maxItems"]) == (1, settings.TOXMON_API_MAX_TEXTS)
    assert texts["items"]["maxLength"] == settings.TOXMON_MAX_CHARS
    assert request["additionalProperties"] is False
    assert request["required"] == ["texts"]
    with pytest.raises(ValueError, match="at most"):
        v1_schemas.AnalyzeRequest(texts=["a"] * (settings.TOXMON_API_MAX_TEXTS + 1))
    with pytest.raises(ValueError, match="characters long"):
        v1_schemas.AnalyzeRequest(texts=["a" * (settings.TOXMON_MAX_CHARS + 1)])


def test_problem_responses_are_problem_json_with_their_headers(document):
    responses = document["paths"]["/api/v1/analyze"]["post"]["responses"]
    for status in ("400", "401", "405", "413", "415", "422", "429", "503"):
        assert list(responses[status]["content"]) == ["application/problem+json"], status
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]


def test_no_interactive_docs_are_served_from_a_cdn(client):
    assert client.get("/api/v1/docs").status_code == 404
