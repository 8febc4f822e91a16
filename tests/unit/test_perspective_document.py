"""The OpenAPI document of /v1alpha1/ is generated from the schemas that validate the routes."""

import pytest
from django.urls import reverse

from analyzer.api import perspective_schemas
from analyzer.comments import TEXT_MAX_BYTES
from analyzer.perspective_attributes import KNOWN_ATTRIBUTES

pytestmark = pytest.mark.django_db

SCHEMAS = [
    perspective_schemas.AnalyzeCommentRequest,
    perspective_schemas.AnalyzeCommentResponse,
    perspective_schemas.SuggestCommentScoreRequest,
    perspective_schemas.SuggestCommentScoreResponse,
    perspective_schemas.GoogleError,
]
ROUTES = ["/v1alpha1/comments:analyze", "/v1alpha1/comments:suggestscore"]


@pytest.fixture
def document(client):
    response = client.get(reverse("perspective:openapi-json"))
    assert response.status_code == 200
    return response.json()


def test_the_document_describes_both_routes_and_nothing_else(document):
    assert sorted(document["paths"]) == ROUTES
    for route in ROUTES:
        assert list(document["paths"][route]) == ["post"]


def without_null_defaults(schema):
    """Return schema without `"default": null`, which ninja leaves out of the document."""
    if isinstance(schema, dict):
        return {
            key: without_null_defaults(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    if isinstance(schema, list):
        return [without_null_defaults(item) for item in schema]
    return schema


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.__name__)
def test_the_document_describes_each_schema_exactly_as_it_validates(document, schema):
    expected = schema.model_json_schema(ref_template="#/components/schemas/{model}")
    expected.pop("$defs", None)
    assert document["components"]["schemas"][schema.__name__] == without_null_defaults(expected)


def test_a_key_in_the_query_or_a_bearer_token_authenticates(document):
    schemes = document["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "query", "name": "key"} in schemes.values()
    assert {"type": "http", "scheme": "bearer"} in schemes.values()
    for route in ROUTES:
        assert len(document["paths"][route]["post"]["security"]) == 2, "either one"


def test_the_documented_limits_are_the_ones_enforced(document):
    request = document["components"]["schemas"]["AnalyzeCommentRequest"]
    assert request["additionalProperties"] is False
    assert request["required"] == ["comment", "requestedAttributes"]
    attributes = request["properties"]["requestedAttributes"]
    assert attributes["propertyNames"]["enum"] == list(KNOWN_ATTRIBUTES)
    assert attributes["minProperties"] == 1
    text = document["components"]["schemas"]["Comment"]["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, TEXT_MAX_BYTES)
    with pytest.raises(ValueError, match="too many bytes"):
        perspective_schemas.Comment(text="é" * (TEXT_MAX_BYTES // 2 + 1))


def test_every_error_is_googles_json_with_its_headers(document):
    for route in ROUTES:
        responses = document["paths"][route]["post"]["responses"]
        for status in ("400", "401", "403", "429", "503"):
            content = responses[status]["content"]
            assert content == {
                "application/json": {"schema": {"$ref": "#/components/schemas/GoogleError"}}
            }, status
        assert "Retry-After" in responses["429"]["headers"]
        assert "WWW-Authenticate" in responses["401"]["headers"]


def test_no_interactive_docs_are_served_from_a_cdn(client):
    response = client.get("/v1alpha1/docs")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
