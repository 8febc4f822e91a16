"""Perspective's comments:analyze and comments:suggestscore over raw HTTP: every field, every
refusal in Perspective's words, and what is stored."""

import json

import pytest
from django.urls import reverse

from analyzer import comments, workload
from analyzer.engines import loader
from analyzer.engines.base import Prediction
from analyzer.models import Analysis, ApiToken, Feedback, Source
from analyzer.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db

ANALYZE = reverse("perspective:analyze")
SUGGEST = reverse("perspective:suggestscore")
HOSTILE = "You are an idiot."
EVERY_ATTRIBUTE = {
    "TOXICITY": "toxic",
    "SEVERE_TOXICITY": "severe_toxic",
    "PROFANITY": "obscene",
    "THREAT": "threat",
    "INSULT": "insult",
    "IDENTITY_ATTACK": "identity_hate",
}


@pytest.fixture
def key():
    _, key = token_create(name="perspective tests")
    return key


def post(client, body, *, key=None, url=ANALYZE, content_type="application/json", headers=None):
    query = f"?key={key}" if key else ""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url + query, data, content_type=content_type, headers=headers or {})


def analyze_body(text=HOSTILE, attributes=None, **fields):
    return {
        "comment": {"text": text},
        "requestedAttributes": attributes or {"TOXICITY": {}},
        **fields,
    }


def assert_error(response, code, status, message=None):
    """Check Google's error format and return the error object."""
    assert response.status_code == code
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    if message is not None:
        assert error["message"] == message
    return error


def javascript_index(text: str, offset: int) -> int:
    """Where a JavaScript string puts a Python offset: the UTF-16 code units before it."""
    return len(text[:offset].encode("utf-16-le")) // 2


# comments:analyze: scores


def test_each_attribute_is_answered_by_its_model_label_as_a_probability(client, fake_engine, key):
    response = post(
        client, analyze_body(attributes={name: {} for name in EVERY_ATTRIBUTE}), key=key
    )
    assert response.status_code == 200
    body = response.json()
    expected = fake_engine.scores(HOSTILE)
    assert body["attributeScores"] == {
        name: {"summaryScore": {"value": expected[label], "type": "PROBABILITY"}}
        for name, label in EVERY_ATTRIBUTE.items()
    }
    assert body["languages"] == ["en"] and body["detectedLanguages"] == ["en"]
    assert "clientToken" not in body, "proto3 JSON leaves out what was not sent"
    assert fake_engine.calls == [[HOSTILE]]


def test_a_score_under_its_threshold_is_left_out_and_one_equal_to_it_is_kept(
    client, fake_engine, key
):
    attributes = {
        "INSULT": {"scoreThreshold": 0.91},  # scores 0.91
        "PROFANITY": {"scoreThreshold": 0.5},  # scores 0.30
        "TOXICITY": {},
    }
    body = post(client, analyze_body(attributes=attributes), key=key).json()
    assert set(body["attributeScores"]) == {"INSULT", "TOXICITY"}


def test_when_every_score_is_under_its_threshold_attribute_scores_is_left_out(
    client, fake_engine, key
):
    attributes = {"TOXICITY": {"scoreThreshold": 0.5}, "THREAT": {"scoreThreshold": 0.5}}
    response = post(client, analyze_body("Have a lovely day.", attributes), key=key)
    assert response.status_code == 200
    assert "attributeScores" not in response.json()
    assert response.json()["languages"] == ["en"]


def test_span_offsets_count_utf16_code_units_past_emoji_and_accents(client, fake_engine, key):
    text = "Ça va très bien 😀👍🏽! Merci beaucoup. You are an idiot."
    body = analyze_body(
        text, {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.5}}, spanAnnotations=True
    )
    scores = post(client, body, key=key).json()["attributeScores"]
    spans = scores["TOXICITY"]["spanScores"]
    # Three astral code points (😀, 👍 and its skin tone) come first: two units each.
    assert [(span["begin"], span["end"]) for span in spans] == [(0, 23), (24, 39), (40, 57)]
    start = text.index(HOSTILE)
    assert (spans[2]["begin"], spans[2]["end"]) == (
        javascript_index(text, start),
        javascript_index(text, start + len(HOSTILE)),
    )
    encoded = text.encode("utf-16-le")
    assert encoded[2 * spans[2]["begin"] : 2 * spans[2]["end"]].decode("utf-16-le") == HOSTILE
    assert [span["score"]["value"] for span in spans] == [0.02, 0.02, 0.97]
    # A span under the attribute's threshold is left out like a summary score.
    assert [(span["begin"], span["end"]) for span in scores["INSULT"]["spanScores"]] == [(40, 57)]
    assert len(fake_engine.calls) == 1, "the text and its sentences are scored in one call"
    assert fake_engine.calls[0] == [
        text,
        "Ça va très bien 😀👍🏽!",
        "Merci beaucoup.",
        HOSTILE,
    ]


def test_sentences_are_split_by_the_segmenter_not_on_every_full_stop(client, fake_engine, key):
    text = "Dr. Smith paid $4.50 for it. You are an idiot."
    body = analyze_body(text, spanAnnotations=True)
    spans = post(client, body, key=key).json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert [text[span["begin"] : span["end"]] for span in spans] == [
        "Dr. Smith paid $4.50 for it.",
        HOSTILE,
    ]


def test_without_span_annotations_no_span_scores_are_sent(client, fake_engine, key):
    body = post(client, analyze_body("One. Two. " + HOSTILE), key=key).json()
    assert "spanScores" not in body["attributeScores"]["TOXICITY"]
    assert len(fake_engine.calls[0]) == 1, "only the whole text is scored"


def test_the_offline_fallback_answers_only_toxicity(client, key, monkeypatch):
    class OffensiveOnly:
        runtime, model, labels, fallback = (
            "profanity-check",
            "alt-profanity-check",
            ("offensive",),
            True,
        )

        def predict(self, texts, **options):
            return [Prediction(scores={"offensive": 0.8}) for _ in texts]

    monkeypatch.setattr(loader, "engine_get", OffensiveOnly)
    body = post(client, analyze_body(), key=key).json()
    assert body["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == 0.8
    response = post(client, analyze_body(attributes={"TOXICITY": {}, "INSULT": {}}), key=key)
    assert_error(response, 400, "INVALID_ARGUMENT", "Unknown requested attribute: INSULT")


# comments:analyze: languages


def test_without_languages_the_language_is_detected_and_returned(client, fake_engine, key):
    body = post(
        client, analyze_body("Du bist ein Idiot und das weiß jeder hier im Forum."), key=key
    )
    assert body.status_code == 200
    # Scored by the English model all the same; detectedLanguages tells the client.
    assert body.json()["detectedLanguages"] == ["de"]
    assert body.json()["languages"] == ["en"]


def test_requested_languages_are_echoed_and_not_detected(client, fake_engine, key):
    for languages in (["en"], ["en-US"], ["de", "en"]):
        body = post(client, analyze_body(languages=languages), key=key).json()
        assert body["languages"] == languages
        assert "detectedLanguages" not in body


def test_a_request_language_the_model_does_not_read_is_refused_as_perspective_does(
    client, fake_engine, key
):
    body = analyze_body(attributes={"INSULT": {}, "TOXICITY": {}}, languages=["de", "it"])
    error = assert_error(
        post(client, body, key=key),
        400,
        "INVALID_ARGUMENT",
        "Attribute INSULT does not support request languages: de, it",
    )
    [detail] = error["details"]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "INSULT"
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_drop_unsupported_attributes_answers_without_scores_instead(client, fake_engine, key):
    body = analyze_body(languages=["it"], dropUnsupportedAttributes=True)
    response = post(client, body, key=key)
    assert response.status_code == 200
    assert response.json() == {"languages": ["it"]}
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


# comments:analyze: storage and echoed fields


def test_an_analysis_is_stored_with_its_source_and_perspective_ids(client, fake_engine, key):
    body = analyze_body(sessionId="s-1", communityId="forum-7", clientToken="comment-53922")
    response = post(client, body, key=key)
    assert response.json()["clientToken"] == "comment-53922"
    analysis = Analysis.objects.get()
    assert (analysis.text, analysis.source, analysis.verdict) == (
        HOSTILE,
        Source.PERSPECTIVE,
        "toxic",
    )
    assert (analysis.session_id, analysis.community_id, analysis.client_token) == (
        "s-1",
        "forum-7",
        "comment-53922",
    )
    assert analysis.scores == fake_engine.scores(HOSTILE), "every label, not only those asked"


def test_staff_find_perspective_analyses_by_source_and_community(
    admin_client, client, fake_engine, key
):
    post(client, analyze_body(communityId="forum-7"), key=key)
    post(client, analyze_body("Have a lovely day.", communityId="forum-8"), key=key)
    changelist = reverse("admin:analyzer_analysis_changelist")
    html = admin_client.get(
        changelist, {"source__exact": "perspective", "q": "forum-7"}
    ).content.decode()
    assert HOSTILE in html and "Have a lovely day." not in html


def test_do_not_store_stores_nothing(client, fake_engine, key):
    body = analyze_body(doNotStore=True, spanAnnotations=True, sessionId="s", clientToken="t")
    response = post(client, body, key=key)
    assert response.status_code == 200
    assert response.json()["clientToken"] == "t"
    assert Analysis.objects.count() == 0 and Feedback.objects.count() == 0


def test_a_one_sentence_comment_is_scored_once_for_its_summary_and_its_span(
    client, fake_engine, key
):
    body = post(client, analyze_body(spanAnnotations=True), key=key).json()
    [span] = body["attributeScores"]["TOXICITY"]["spanScores"]
    assert (span["begin"], span["end"]) == (0, len(HOSTILE))
    assert fake_engine.calls == [[HOSTILE]]


def test_spans_are_not_stored_as_analyses(client, fake_engine, key):
    post(client, analyze_body("Hello there. " + HOSTILE, spanAnnotations=True), key=key)
    assert Analysis.objects.count() == 1


def test_a_comment_past_a_busy_worker_is_unavailable_with_retry_after_and_not_scored(
    client, fake_engine, key, settings
):
    settings.TOXMON_WORKER_MAX_WINDOWS = 10
    with workload.work_admitted(windows=10):
        response = post(client, analyze_body(), key=key)
    error = assert_error(response, 503, "UNAVAILABLE")
    assert str(workload.BUSY_RETRY_SECONDS) in error["message"]
    assert response["Retry-After"] == str(workload.BUSY_RETRY_SECONDS)
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_spans_count_twice_in_the_work_a_worker_takes_on(client, fake_engine, key, settings):
    text = "You are an idiot. " * 300
    work = workload.work_estimate(texts=[text])
    settings.TOXMON_WORKER_MAX_WINDOWS = int(work * 1.5)
    assert post(client, analyze_body(text), key=key).status_code == 200
    response = post(client, analyze_body(text, spanAnnotations=True), key=key)
    error = assert_error(response, 400, "INVALID_ARGUMENT")
    assert "model windows of work" in error["message"]
    assert len(fake_engine.calls) == 1


def test_context_is_accepted_and_not_scored(client, fake_engine, key):
    context = {"entries": [{"text": "The article.", "type": "PLAIN_TEXT"}]}
    response = post(client, analyze_body(context=context), key=key)
    assert response.status_code == 200
    assert fake_engine.calls == [[HOSTILE]]


# comments:analyze: refusals in Perspective's words


def test_an_attribute_the_model_does_not_have_is_refused_naming_it(client, fake_engine, key):
    # OBSCENE is toxic-bert's label, not a Perspective attribute; toxic-bert has no
    # SEXUALLY_EXPLICIT.
    for name in ("OBSCENE", "SEXUALLY_EXPLICIT", "toxicity"):
        body = analyze_body(attributes={"TOXICITY": {}, name: {}})
        response = post(client, body, key=key)
        assert_error(response, 400, "INVALID_ARGUMENT", f"Unknown requested attribute: {name}")
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_a_comment_over_20480_utf8_bytes_is_refused_with_perspectives_message(
    client, fake_engine, key
):
    assert post(client, analyze_body("é" * 10240), key=key).status_code == 200, "20,480 bytes"
    error = assert_error(
        post(client, analyze_body("é" * 10240 + "a"), key=key),
        400,
        "INVALID_ARGUMENT",
        "Comment text was too many bytes. Value (20481) exceeded limit (20480).",
    )
    assert error["details"][0]["errorType"] == "COMMENT_TOO_LONG"
    # 7,000 characters pass the npm client's character check but are 21,000 bytes.
    error = assert_error(post(client, analyze_body("字" * 7000), key=key), 400, "INVALID_ARGUMENT")
    assert error["message"].endswith("Value (21000) exceeded limit (20480).")
    assert Analysis.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message", "error_type"),
    [
        (analyze_body(""), "Comment must be non-empty.", "COMMENT_EMPTY"),
        ({"requestedAttributes": {"TOXICITY": {}}}, "Comment must be non-empty.", "COMMENT_EMPTY"),
        ({"comment": {"text": HOSTILE}}, "Missing requested_attributes", "NO_REQUESTED_ATTRIBUTES"),
        (
            {"comment": {"text": HOSTILE}, "requestedAttributes": {}},
            "Missing requested_attributes",
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            analyze_body(attributes={"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}),
            "Requested score type STD_DEV_SCORE is not supported by attribute TOXICITY",
            None,
        ),
        (
            {
                "comment": {"text": "<b>hi</b>", "type": "HTML"},
                "requestedAttributes": {"TOXICITY": {}},
            },
            "Currently, only 'PLAIN_TEXT' comments are supported",
            None,
        ),
        (
            analyze_body(
                context={
                    "entries": [{"text": "a"}],
                    "articleAndParentComment": {"article": {"text": "b"}},
                }
            ),
            "Context can have either entries or article_and_parent_comment, but both fields "
            "were populated.",
            None,
        ),
    ],
    ids=[
        "empty",
        "no-comment",
        "no-attributes",
        "empty-attributes",
        "score-type",
        "html",
        "context",
    ],
)
def test_perspectives_refusals_keep_its_wording(
    client, fake_engine, key, body, message, error_type
):
    error = assert_error(post(client, body, key=key), 400, "INVALID_ARGUMENT", message)
    if error_type is None:
        assert "details" not in error
    else:
        assert error["details"] == [
            {
                "@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                "errorType": error_type,
            }
        ]
    assert fake_engine.calls == []


def test_an_unknown_or_mistyped_field_is_refused_naming_it(client, fake_engine, key):
    error = assert_error(
        post(client, analyze_body(doNotstore=True), key=key), 400, "INVALID_ARGUMENT"
    )
    assert error["message"] == (
        'Invalid JSON payload received. Unknown name "doNotstore": Cannot find field.'
    )
    error = assert_error(
        post(client, analyze_body(spanAnnotations="yes"), key=key), 400, "INVALID_ARGUMENT"
    )
    assert error["message"].startswith("Invalid value at 'spanAnnotations'")
    assert error["details"][0]["fieldViolations"][0]["field"] == "spanAnnotations"


def test_texts_storage_cannot_hold_are_refused(client, fake_engine, key):
    assert_error(post(client, analyze_body("a\x00b"), key=key), 400, "INVALID_ARGUMENT")
    lone_surrogate = '{"comment": {"text": "a\\ud800b"}, "requestedAttributes": {"TOXICITY": {}}}'
    assert_error(post(client, lone_surrogate, key=key), 400, "INVALID_ARGUMENT")
    assert Analysis.objects.count() == 0


# Keys and the rate limit


def test_a_bad_key_gets_perspectives_400_body(client, fake_engine, key):
    response = post(client, analyze_body(), key="not-a-toxmon-key")
    error = assert_error(
        response, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
    )
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    token_revoke(token=ApiToken.objects.get())
    assert_error(post(client, analyze_body(), key=key), 400, "INVALID_ARGUMENT")
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_no_key_is_permission_denied(client, fake_engine):
    assert_error(
        post(client, analyze_body()),
        403,
        "PERMISSION_DENIED",
        "The request is missing a valid API key.",
    )


def test_a_bearer_token_works_too_and_a_bad_one_is_unauthenticated(client, fake_engine, key):
    response = post(client, analyze_body(), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    response = post(client, analyze_body(), headers={"Authorization": "Bearer nope"})
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_over_the_rate_limit_is_resource_exhausted_with_retry_after(
    client, fake_engine, key, settings
):
    settings.TOXMON_API_RATE_LIMIT = "2/minute"
    assert post(client, analyze_body(), key=key).status_code == 200
    assert post(client, analyze_body(), key=key, url=SUGGEST).status_code == 400, "counted too"
    response = post(client, analyze_body(), key=key)
    error = assert_error(response, 429, "RESOURCE_EXHAUSTED")
    assert error["message"].startswith("Quota exceeded for quota metric")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert error["details"][1]["retryDelay"] == f"{response['Retry-After']}s"
    _, other_key = token_create(name="other")
    assert post(client, analyze_body(), key=other_key).status_code == 200, "limits are per key"


# Failures are never HTML


def test_malformed_json_and_other_media_types_get_googles_400(client, fake_engine, key):
    error = assert_error(post(client, '{"comment": ', key=key), 400, "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid JSON payload received.")
    assert_error(post(client, '{"comment": NaN}', key=key), 400, "INVALID_ARGUMENT")
    assert_error(post(client, "[]", key=key), 400, "INVALID_ARGUMENT")
    form = "comment=hi"
    response = post(client, form, key=key, content_type="application/x-www-form-urlencoded")
    assert "application/json" in assert_error(response, 400, "INVALID_ARGUMENT")["message"]


def test_the_npm_clients_empty_form_post_after_its_own_refusal_gets_json_400(
    client, fake_engine, key
):
    # perspective-api-client@3.1.0 rejects a too-long text and still posts an empty form body.
    response = post(client, "", key=key, content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "INVALID_ARGUMENT", "Comment must be non-empty.")


def test_a_body_over_djangos_limit_is_400(client, fake_engine, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    error = assert_error(post(client, analyze_body("a" * 200), key=key), 400, "INVALID_ARGUMENT")
    assert error["message"] == "Request payload size exceeds the limit: 100 bytes."


def test_other_paths_and_methods_under_v1alpha1_get_googles_json(client):
    for path in ("/v1alpha1/comments:analyse", "/v1alpha1/", "/v1alpha1", "/v1alpha1/x/y"):
        assert_error(client.get(path), 404, "NOT_FOUND")
        assert_error(client.post(path, "{}", content_type="application/json"), 404, "NOT_FOUND")
    for url in (ANALYZE, SUGGEST):
        for method in ("get", "put", "patch", "delete", "options"):
            response = getattr(client, method)(url)
            assert_error(response, 405, "UNIMPLEMENTED")
            assert response["Allow"] == "POST"
        # A HEAD answer has no body, but says what it would have been.
        response = client.head(url)
        assert (response.status_code, response["Allow"]) == (405, "POST")
        assert response["Content-Type"] == "application/json"


def test_a_failing_model_is_unavailable_and_nothing_is_stored(client, fake_engine, key):
    fake_engine.error = RuntimeError("CUDA exploded")
    response = post(client, analyze_body(), key=key)
    error = assert_error(response, 503, "UNAVAILABLE")
    assert "CUDA" not in error["message"]
    assert int(response["Retry-After"]) > 0
    assert Analysis.objects.count() == 0


def test_a_bug_is_an_internal_error_in_googles_format(client, fake_engine, key, monkeypatch):
    def broken(**kwargs):
        raise KeyError("bug")

    monkeypatch.setattr(comments, "comment_analyze", broken)
    error = assert_error(post(client, analyze_body(), key=key), 500, "INTERNAL")
    assert "bug" not in error["message"]


# comments:suggestscore


def suggest_body(text=HOSTILE, scores=None, **fields):
    return {
        "comment": {"text": text},
        "attributeScores": scores or {"TOXICITY": {"summaryScore": {"value": 0}}},
        **fields,
    }


def test_suggested_scores_are_kept_on_the_latest_analysis_of_the_text(client, fake_engine, key):
    post(client, analyze_body(), key=key)
    post(client, analyze_body(), key=key)
    latest = Analysis.objects.latest("created_at", "id")
    scores = {
        "TOXICITY": {"summaryScore": {"value": 0.1, "type": "PROBABILITY"}},
        "INSULT": {"spanScores": [{"begin": 0, "end": 17, "score": {"value": 0.2}}]},
    }
    body = suggest_body(
        scores=scores, communityId="Coral:https://forum.example.org/", clientToken="c:1"
    )
    response = post(client, body, key=key, url=SUGGEST)
    assert response.status_code == 200
    assert response.json() == {"clientToken": "c:1"}
    feedback = Feedback.objects.get()
    assert feedback.analysis == latest
    assert feedback.scores == {"TOXICITY": 0.1}
    assert feedback.span_scores == {"INSULT": [{"begin": 0, "end": 17, "score": 0.2}]}
    assert (feedback.community_id, feedback.client_token) == (
        "Coral:https://forum.example.org/",
        "c:1",
    )
    assert len(fake_engine.calls) == 2, "the stored analysis is reused, not scored again"


def test_a_suggestion_for_a_text_never_stored_scores_and_stores_it_first(client, fake_engine, key):
    post(client, analyze_body(doNotStore=True), key=key)
    response = post(client, suggest_body(), key=key, url=SUGGEST)
    assert response.status_code == 200 and response.json() == {}
    feedback = Feedback.objects.get()
    assert feedback.analysis.text == HOSTILE
    assert feedback.analysis.source == Source.PERSPECTIVE
    assert feedback.analysis.scores == fake_engine.scores(HOSTILE)


def test_coral_talks_suggestion_is_accepted(client, fake_engine, key):
    body = {
        "comment": {"text": "Oi, tudo bem?"},
        "context": {
            "entries": [{"text": '{"url":"https://forum.example.org/a","Coral_comment_id":"1"}'}]
        },
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        "languages": ["pt"],
        "communityId": "Coral:http://localhost:8080/",
        "clientToken": "comment:e53cbeba-796b-4930-b16e-1f1a8ad20766",
    }
    response = post(client, body, key=key, url=SUGGEST)
    assert response.json() == {"clientToken": "comment:e53cbeba-796b-4930-b16e-1f1a8ad20766"}
    assert Feedback.objects.get().scores == {"TOXICITY": 0}


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({}, "Missing attribute_scores"),
        ({"TOXICITY": {}}, "Attribute TOXICITY has neither a summaryScore nor spanScores."),
        ({"OBSCENE": {"summaryScore": {"value": 1}}}, "Unknown requested attribute: OBSCENE"),
        (
            {"TOXICITY": {"spanScores": [{"begin": 0, "end": 99, "score": {"value": 1}}]}},
            "Span [0, 99) of TOXICITY is outside the comment, which is 17 UTF-16 code units long.",
        ),
        ({"TOXICITY": {"summaryScore": {"value": 1.5}}}, None),
        ({"TOXICITY": {"summaryScore": {}}}, None),
    ],
    ids=["empty", "no-score", "unknown-attribute", "span-outside", "over-one", "no-value"],
)
def test_a_bad_suggestion_is_refused_and_nothing_is_kept(client, fake_engine, key, scores, message):
    body = {"comment": {"text": HOSTILE}, "attributeScores": scores}
    assert_error(post(client, body, key=key, url=SUGGEST), 400, "INVALID_ARGUMENT", message)
    assert Feedback.objects.count() == 0 and Analysis.objects.count() == 0


def test_feedback_shows_on_its_analysis_and_in_its_own_list_in_admin(
    admin_client, client, fake_engine, key
):
    body = suggest_body(
        scores={"TOXICITY": {"summaryScore": {"value": 0.05}}}, communityId="forum-7"
    )
    post(client, body, key=key, url=SUGGEST)
    feedback = Feedback.objects.get()
    page = admin_client.get(reverse("admin:analyzer_analysis_change", args=[feedback.analysis_id]))
    assert "forum-7" in page.content.decode() and "0.05" in page.content.decode()
    listing = admin_client.get(reverse("admin:analyzer_feedback_changelist")).content.decode()
    assert HOSTILE in listing and "TOXICITY 5%" in listing and "Toxic (toxic 97%)" in listing


def test_a_suggestion_puts_its_analysis_in_the_review_queue_until_someone_reviews_it(
    client, fake_engine, key, admin_user
):
    from analyzer.reviews import reviews_record

    post(client, analyze_body(doNotStore=False), key=key)
    analysis = Analysis.objects.get()
    assert analysis.action == "block" and not Analysis.objects.needs_review().exists()
    post(client, suggest_body(), key=key, url=SUGGEST)
    assert list(Analysis.objects.needs_review()) == [analysis]
    reviews_record(analyses=[analysis], decision="not_toxic", reviewer=admin_user)
    assert not Analysis.objects.needs_review().exists(), "reviewed since the suggestion"
    post(client, suggest_body(), key=key, url=SUGGEST)
    assert list(Analysis.objects.needs_review()) == [analysis], "a newer suggestion comes back"


def test_a_suggestion_of_span_scores_only_is_kept(client, fake_engine, key):
    spans_only = {"THREAT": {"spanScores": [{"begin": 0, "end": 0, "score": {"value": 0.0}}]}}
    response = post(client, suggest_body(text="0", scores=spans_only), key=key, url=SUGGEST)
    assert response.status_code == 200
    feedback = Feedback.objects.get()
    assert feedback.scores == {} and feedback.span_scores == {
        "THREAT": [{"begin": 0, "end": 0, "score": 0.0}]
    }


def test_a_suggestion_with_no_score_at_all_is_refused(client, fake_engine, key):
    empty = {"THREAT": {"summaryScore": None}}
    response = post(client, suggest_body(scores=empty), key=key, url=SUGGEST)
    assert_error(response, 400, "INVALID_ARGUMENT")
    assert Feedback.objects.count() == 0
