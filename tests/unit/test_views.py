import pytest
from django.test import Client
from django.urls import reverse

from analyzer import policies
from analyzer.models import Analysis

pytestmark = pytest.mark.django_db

ANALYZE_URL = reverse("analyzer:analyze")


def test_the_form_page_has_the_text_area_and_the_analyze_button(client, fake_engine):
    response = client.get(ANALYZE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sentence or comment" in html
    assert '<textarea name="text"' in html
    assert ">Analyze</button>" in html


def test_a_post_shows_the_verdict_and_a_row_per_label_and_keeps_the_text(client, fake_engine):
    response = client.post(ANALYZE_URL, {"text": "You are a complete idiot"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-verdict="toxic"' in html
    for label in fake_engine.labels:
        assert f'data-label="{label}"' in html
    assert html.count("<meter") == len(fake_engine.labels)
    assert "97.0%" in html and "Flagged" in html
    assert "fake-toxic-bert" in html
    assert "You are a complete idiot</textarea>" in html
    assert Analysis.objects.count() == 1


def test_a_friendly_sentence_is_not_toxic_and_has_no_flag(client, fake_engine):
    html = client.post(ANALYZE_URL, {"text": "Have a lovely day"}).content.decode()
    assert 'data-verdict="not_toxic"' in html
    assert "Flagged" not in html


def test_blank_text_is_rejected_and_nothing_is_stored(client, fake_engine):
    response = client.post(ANALYZE_URL, {"text": "   "})
    assert response.status_code == 400
    assert "Enter a sentence or comment to analyze." in response.content.decode()
    assert Analysis.objects.count() == 0
    assert fake_engine.calls == []


def test_too_long_text_is_rejected_kept_in_the_form_and_not_stored(client, fake_engine, settings):
    settings.TOXMON_MAX_CHARS = 30
    text = "a long comment " * 3
    response = client.post(ANALYZE_URL, {"text": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "the limit is 30" in html
    assert f"{text}</textarea>" in html
    assert Analysis.objects.count() == 0


def test_a_post_without_the_text_field_is_rejected(client, fake_engine):
    assert client.post(ANALYZE_URL, {"other": "x"}).status_code == 400
    assert Analysis.objects.count() == 0


def test_html_in_the_text_is_shown_escaped_never_as_markup(client, fake_engine):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    html = client.post(ANALYZE_URL, {"text": payload}).content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Analysis.objects.get().text == payload


def test_a_failing_model_gives_503_keeps_the_text_and_stores_nothing(client, fake_engine):
    fake_engine.error = RuntimeError("CUDA exploded")
    response = client.post(ANALYZE_URL, {"text": "keep me"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "The model is unavailable" in html
    assert "keep me</textarea>" in html
    assert "CUDA exploded" not in html, "internal errors are logged, not shown"
    assert Analysis.objects.count() == 0


def test_a_post_without_a_csrf_token_is_forbidden_and_stores_nothing(fake_engine):
    client = Client(enforce_csrf_checks=True)
    response = client.post(ANALYZE_URL, {"text": "You are a complete idiot"})
    assert response.status_code == 403
    assert Analysis.objects.count() == 0


def test_other_methods_are_not_allowed(client, fake_engine):
    assert client.put(ANALYZE_URL).status_code == 405
    assert client.delete(ANALYZE_URL).status_code == 405


def test_the_fallback_engine_is_announced_by_a_banner(client, fake_engine):
    fake_engine.fallback = True
    html = client.get(ANALYZE_URL).content.decode()
    assert "Fallback engine active" in html


def test_the_real_engine_shows_no_fallback_banner(client, fake_engine):
    assert "Fallback engine active" not in client.get(ANALYZE_URL).content.decode()


def test_healthz_names_the_engine(client, fake_engine):
    response = client.get(reverse("analyzer:healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "engine": "fake",
        "model": "fake-toxic-bert",
        "labels": list(fake_engine.labels),
        "fallback": False,
    }


def test_healthz_is_503_when_no_model_can_be_loaded(client, monkeypatch):
    from analyzer.engines import loader
    from analyzer.engines.base import ModelUnavailable

    def unavailable():
        raise ModelUnavailable("weights missing")

    monkeypatch.setattr(loader, "engine_get", unavailable)
    response = client.get(reverse("analyzer:healthz"))
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_a_disguised_text_is_caught_and_the_page_says_it_was_normalized(client, fake_engine):
    spaced = "you are an i d i o t"
    response = client.post(reverse("analyzer:analyze"), {"text": spaced})
    html = response.content.decode()
    assert 'data-verdict="toxic"' in html
    assert 'data-normalized="true"' in html
    assert spaced in html, "the text is shown as sent"


def test_a_text_in_a_language_the_model_does_not_read_gets_a_visible_note(client, fake_engine):
    # The fake engine has toxic-bert's labels, so it is taken for toxic-bert: English only.
    response = client.post(ANALYZE_URL, {"text": "Du bist ein Idiot, das wissen hier alle."})
    html = response.content.decode()
    assert 'class="language-note"' in html
    assert 'data-language="de"' in html
    words = " ".join(html.split())
    assert "looks German" in words and "trained on English only" in words


def test_an_english_text_gets_no_language_note(client, fake_engine):
    response = client.post(ANALYZE_URL, {"text": "You are a complete idiot, everyone knows it."})
    assert 'class="language-note"' not in response.content.decode()


def test_the_result_shows_the_policy_action_and_the_labels_that_made_it(client, fake_engine):
    policies.policy_current(labels=fake_engine.labels)
    policies.policy_change(label="toxic", review_threshold=0.5, block_threshold=0.99, user=None)
    policies.policy_change(label="insult", review_threshold=0.95, block_threshold=0.99, user=None)
    html = client.post(ANALYZE_URL, {"text": "You are a complete idiot"}).content.decode()
    assert 'data-action="review"' in html
    assert "because of toxic" in html
    assert '<td class="label-action" data-action="review">Review</td>' in html
    assert html.count('data-action="allow"') == len(fake_engine.labels) - 1
