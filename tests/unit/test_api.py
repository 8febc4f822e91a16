import json

import pytest
from django.urls import reverse

from analyzer import policies
from analyzer.models import Analysis, ApiToken, Source
from analyzer.tokens import key_hash, token_create, token_revoke

pytestmark = pytest.mark.django_db

URL = reverse("api_v1:analyze")
PROBLEM = "application/problem+json"


@pytest.fixture
def key():
    _, key = token_create(name="tests")
    return key


def post(client, body, *, key=None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type=content_type, headers=headers)


def assert_problem(response, status, kind):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"/api/v1/problems/{kind}"
    assert body["title"] and body["detail"]
    return body


def test_texts_are_scored_and_stored_with_every_label(client, fake_engine, key):
    response = post(client, {"texts": ["You are a complete idiot", "Have a nice day"]}, key=key)
    assert response.status_code == 200
    body = response.json()
    assert (body["engine"], body["model"], body["fallback"]) == ("fake", "fake-toxic-bert", False)
    assert body["stored"] is True
    first, second = body["results"]
    assert list(first["scores"]) == list(fake_engine.labels)
    assert (first["verdict"], first["top_label"]) == ("toxic", "toxic")
    assert second["verdict"] == "not_toxic"
    assert "spans" not in first
    assert fake_engine.calls == [["You are a complete idiot", "Have a nice day"]]
    stored = Analysis.objects.get(pk=first["id"])
    assert stored.source == Source.API and stored.text == "You are a complete idiot"
    assert Analysis.objects.count() == 2


def test_store_false_analyses_without_keeping_the_text(client, fake_engine, key):
    response = post(client, {"texts": ["You are a complete idiot"], "store": False}, key=key)
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] is None
    assert response.json()["stored"] is False
    assert Analysis.objects.count() == 0


def test_explain_returns_spans_whose_offsets_slice_the_text(client, fake_engine, key):
    text = "  Hello 👋, you idiot! Ça va? "
    response = post(client, {"texts": [text], "explain": True}, key=key)
    spans = response.json()["results"][0]["spans"]
    # The words of the sentence that carries the label; "Ça va?" scores low alone.
    assert [span["text"] for span in spans] == ["Hello", "👋", "you", "idiot"]
    for span in spans:
        assert text[span["start"] : span["end"]] == span["text"]
    assert max(spans, key=lambda span: span["contribution"])["text"] == "idiot"
    assert len(fake_engine.calls) == 3, "score; each sentence alone; the flagged one's words"


def test_explain_uses_the_same_explanations_as_the_results_page(client, fake_engine, key):
    from analyzer import explain
    from analyzer.services import analyses_build

    text = "Have a lovely day. Thanks for the help, you idiot."
    response = post(client, {"texts": [text], "store": False, "explain": True}, key=key)
    [explanation] = explain.explanations_build(analyses=analyses_build(texts=[text]))
    assert response.json()["results"][0]["spans"] == [span.as_dict() for span in explanation.spans]


def test_explain_on_a_model_too_busy_is_a_503_model_busy_and_nothing_is_stored(
    client, fake_engine, key, monkeypatch
):
    from analyzer import explain
    from analyzer.services import ModelBusy

    def busy(**kwargs):
        raise ModelBusy("waited")

    monkeypatch.setattr(explain, "explanations_build", busy)
    response = post(client, {"texts": ["hello idiot"], "explain": True}, key=key)
    assert_problem(response, 503, "model-busy")
    assert response["Retry-After"]
    assert Analysis.objects.count() == 0


def test_no_token_is_401_with_a_bearer_challenge(client, fake_engine):
    body = assert_problem(post(client, {"texts": ["hi"]}), 401, "unauthenticated")
    assert "Bearer" in body["detail"]
    assert post(client, {"texts": ["hi"]})["WWW-Authenticate"].startswith("Bearer")
    assert fake_engine.calls == []


def test_an_unknown_or_revoked_token_is_401(client, fake_engine, key):
    assert_problem(post(client, {"texts": ["hi"]}, key=key + "x"), 401, "unauthenticated")
    token_revoke(token=ApiToken.objects.get())
    assert_problem(post(client, {"texts": ["hi"]}, key=key), 401, "unauthenticated")
    assert Analysis.objects.count() == 0


def test_only_a_hash_of_the_key_is_stored(key):
    token = ApiToken.objects.get()
    assert token.key_hash == key_hash(key) and key not in token.key_hash
    assert key.startswith(token.prefix)


def test_malformed_json_is_400(client, fake_engine, key):
    assert_problem(post(client, '{"texts": [', key=key), 400, "malformed-json")
    assert_problem(post(client, '{"texts": [NaN]}', key=key), 400, "malformed-json")
    assert_problem(post(client, b"\xff\xfe\xfd", key=key), 400, "malformed-json")


def test_a_body_over_the_limit_is_413(client, fake_engine, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert_problem(post(client, {"texts": ["x" * 200]}, key=key), 413, "body-too-large")


def test_a_body_that_is_not_json_is_415(client, fake_engine, key):
    response = post(client, "texts=hi", key=key, content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported-media-type")


def test_invalid_fields_are_422_and_each_is_named(client, fake_engine, key, settings):
    settings.TOXMON_MAX_CHARS = 10
    body = {"texts": ["fine", "far too long a text", "  ", 3, "a\x00b"], "store": "yes", "x": 1}
    problem = assert_problem(post(client, body, key=key), 422, "invalid-fields")
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"texts[1]", "texts[2]", "texts[3]", "texts[4]", "store", "x"}
    assert "texts[1]" in problem["detail"]
    assert fake_engine.calls == []


@pytest.mark.parametrize(
    "body", [{}, {"texts": []}, {"texts": ["a"] * 33}, {"texts": "hi"}, ["hi"], '"hi"', "null"]
)
def test_missing_empty_or_too_many_texts_are_422(client, fake_engine, key, body):
    assert_problem(post(client, body, key=key), 422, "invalid-fields")


def test_over_the_rate_limit_is_429_with_retry_after(client, fake_engine, key, settings):
    settings.TOXMON_API_RATE_LIMIT = "2/minute"
    assert post(client, {"texts": ["a"]}, key=key).status_code == 200
    assert post(client, {"texts": ["a"]}, key=key).status_code == 200
    response = post(client, {"texts": ["a"]}, key=key)
    assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    _, other_key = token_create(name="other")
    assert post(client, {"texts": ["a"]}, key=other_key).status_code == 200, "limits are per token"


def test_a_failing_model_is_503_and_nothing_is_stored(client, fake_engine, key):
    fake_engine.error = RuntimeError("CUDA exploded")
    response = post(client, {"texts": ["hello"]}, key=key)
    body = assert_problem(response, 503, "model-unavailable")
    assert "CUDA" not in body["detail"]
    assert Analysis.objects.count() == 0


def test_a_failing_explanation_is_503_and_nothing_is_stored(client, fake_engine, key, monkeypatch):
    from analyzer import explain
    from analyzer.services import PredictionFailed

    def failing(**kwargs):
        raise PredictionFailed("explaining failed")

    monkeypatch.setattr(explain, "explanations_build", failing)
    texts = ["hello idiot", "have a nice day"]
    response = post(client, {"texts": texts, "store": True, "explain": True}, key=key)
    assert_problem(response, 503, "model-unavailable")
    assert Analysis.objects.count() == 0


def test_other_methods_are_405_problems_naming_post(client, fake_engine, key):
    response = client.get(URL, headers={"Authorization": f"Bearer {key}"})
    assert_problem(response, 405, "method-not-allowed")
    assert response["Allow"] == "POST"


def test_unknown_api_paths_are_json_404s_not_html(client):
    assert_problem(client.get("/api/v1/nothing"), 404, "not-found")
    assert_problem(client.post("/api/v2/analyze"), 404, "not-found")


def test_an_unexpected_error_is_a_500_problem_not_an_html_page(
    client, fake_engine, key, monkeypatch
):
    from analyzer import services

    def broken(**kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(services, "analyses_build", broken)
    assert_problem(post(client, {"texts": ["hi"]}, key=key), 500, "server-error")


def test_the_api_needs_no_csrf_token(fake_engine, key):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), {"texts": ["hi"]}, key=key)
    assert response.status_code == 200


def test_the_openapi_document_is_3_1_and_describes_every_status(client):
    response = client.get(reverse("api_v1:openapi-json"))
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    responses = document["paths"]["/api/v1/analyze"]["post"]["responses"]
    assert {"200", "400", "401", "413", "415", "422", "429", "503"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]


def test_each_result_says_its_language_and_whether_the_model_covers_it(client, fake_engine, key):
    texts = ["You are a complete idiot, everyone knows it.", "Du bist ein Idiot, das wissen alle."]
    response = post(client, {"texts": texts, "store": False}, key=key)
    english, german = response.json()["results"]
    assert english["language"] == {"detected": "en", "covered": True}
    assert german["language"] == {"detected": "de", "covered": False}


def test_a_model_toxmon_does_not_know_reports_the_language_but_not_its_coverage(
    client, fake_engine, key
):
    fake_engine.model = "someone/else"
    fake_engine.labels = ("hateful", "spam")
    fake_engine.scores = lambda text: {"hateful": 0.1, "spam": 0.2}
    response = post(client, {"texts": ["Du bist ein Idiot, das wissen alle."]}, key=key)
    [result] = response.json()["results"]
    assert result["language"] == {"detected": "de", "covered": None}


def test_each_result_carries_the_action_of_the_label_policy(client, fake_engine, key):
    policies.policy_current(labels=fake_engine.labels)
    policies.policy_change(label="toxic", review_threshold=0.5, block_threshold=0.99, user=None)
    policies.policy_change(label="insult", review_threshold=0.95, block_threshold=0.99, user=None)
    version = policies.policy_current(labels=[]).version
    response = post(client, {"texts": ["You are a complete idiot", "Have a nice day"]}, key=key)
    body = response.json()
    assert [result["action"] for result in body["results"]] == ["review", "allow"]
    assert body["policy_version"] == version
    assert Analysis.objects.get(pk=body["results"][0]["id"]).action == "review"
