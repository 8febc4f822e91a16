import pytest
from django.urls import reverse

from analyzer import metrics
from analyzer.explain import (
    Level,
    Span,
    explanations_build,
    grouped_spans,
    occluded,
    segments_from_spans,
    word_spans,
)
from analyzer.services import PredictionFailed, analyses_build

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "You are a complete idiot",
        "  leading and trailing spaces  ",
        "Emoji 👋🏽 and flags 🇫🇷, then an idiot!",
        "Ça va? Grüße aus Köln — naïve café, 東京 idiot",
        "line one\r\nline two\ttab «quoted» (parenthesised) don't f*ck",
        "👨‍👩‍👧 family, \U0001d573\U0001d58a\U0001d591 math letters, e\u0301 combining",
    ],
)
def test_word_offsets_always_slice_the_original_text(text):
    spans = word_spans(text)
    assert spans
    for start, end in spans:
        word = text[start:end]
        assert word and not word.isspace()
        assert word == word.strip()
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


def test_punctuation_around_words_is_not_part_of_them():
    text = '"Hello," she said... (idiot!) don\'t --'
    assert [text[s:e] for s, e in word_spans(text)] == ["Hello", "she", "said", "idiot", "don't"]


def test_emoji_are_words_of_their_own():
    text = "nice 🖕 day"
    assert [text[s:e] for s, e in word_spans(text)] == ["nice", "🖕", "day"]


def test_removing_a_word_removes_one_space_beside_it():
    assert occluded("you are an idiot", 11, 16) == "you are an"
    assert occluded("you are an idiot", 0, 3) == "are an idiot"
    assert occluded("idiot", 0, 5) == ""


def test_a_long_text_is_explained_in_at_most_the_limit_of_groups():
    spans = [(index * 2, index * 2 + 1) for index in range(100)]
    groups = grouped_spans(spans, limit=10)
    assert len(groups) == 10
    assert groups[0] == (0, 19) and groups[-1][1] == 199
    assert grouped_spans(spans[:5], limit=10) == spans[:5]


def test_the_insult_gets_the_highest_contribution_in_one_engine_call(fake_engine):
    analyses = analyses_build(texts=["Have a lovely day, idiot", "Thanks, friend"])
    fake_engine.calls.clear()
    first, second = explanations_build(analyses=analyses)
    assert len(fake_engine.calls) == 1, "every occlusion of every text in one call"
    assert len(fake_engine.calls[0]) == len(first) + len(second)
    top = max(first, key=lambda span: span.contribution)
    assert top.text == "idiot" and top.contribution == pytest.approx(0.97 - 0.02)
    assert all(span.contribution == 0 for span in second)


def test_a_text_of_punctuation_alone_has_no_spans_and_no_engine_call(fake_engine):
    analyses = analyses_build(texts=["?!"])
    fake_engine.calls.clear()
    assert explanations_build(analyses=analyses) == [[]]
    assert fake_engine.calls == []


def test_a_text_read_in_several_windows_is_explained_by_fewer_groups(fake_engine, settings):
    settings.TOXMON_EXPLAIN_MAX_SPANS = 12
    [analysis] = analyses_build(texts=[" ".join(["word"] * 40)])
    analysis.windows = 4
    fake_engine.calls.clear()
    [spans] = explanations_build(analyses=[analysis])
    assert len(spans) == 3
    assert len(fake_engine.calls[0]) == 3


def test_a_failing_engine_while_explaining_raises_prediction_failed(fake_engine):
    analyses = analyses_build(texts=["hello idiot"])
    fake_engine.error = RuntimeError("boom")
    failures = metrics.PREDICTION_FAILURES.labels(engine="fake")
    before = failures._value.get()
    with pytest.raises(PredictionFailed):
        explanations_build(analyses=analyses)
    assert failures._value.get() == before + 1, "explaining failures count as failures too"


@pytest.mark.parametrize(
    ("contribution", "level"),
    [(0.5, Level.STRONG), (0.1, Level.MEDIUM), (0.02, Level.WEAK), (0.0, None), (-0.3, "lowers")],
)
def test_contributions_map_to_levels(contribution, level):
    assert Span(0, 1, "x", contribution).level == level


def test_segments_cover_the_whole_text_in_order():
    text = " a idiot b "
    spans = [Span(1, 2, "a", 0.0), Span(3, 8, "idiot", 0.9), Span(9, 10, "b", 0.0)]
    segments = segments_from_spans(text, spans)
    assert "".join(segment.text for segment in segments) == text
    assert [s.level for s in segments if s.text == "idiot"] == [Level.STRONG]


def test_the_results_page_highlights_words_with_classes_and_a_legend(client, fake_engine):
    response = client.post(
        reverse("analyzer:analyze"), {"text": "Have a lovely day, idiot", "explain": "on"}
    )
    html = response.content.decode()
    assert '<mark class="contribution contribution-strong"' in html
    assert ">idiot</mark>" in html
    assert 'class="legend"' in html
    for level in Level:
        assert f"contribution-{level.value}" in html
    assert "style=" not in html


def test_without_the_checkbox_no_explanation_is_made(client, fake_engine):
    html = client.post(reverse("analyzer:analyze"), {"text": "idiot"}).content.decode()
    assert "contribution-strong" not in html
    assert len(fake_engine.calls) == 1


def test_the_form_offers_explanations_checked_by_default(client, fake_engine):
    html = client.get(reverse("analyzer:analyze")).content.decode()
    assert 'name="explain"' in html and "checked" in html


def test_an_explanation_failure_keeps_the_stored_analysis(client, fake_engine, monkeypatch):
    from analyzer import explain

    def failing(**kwargs):
        raise PredictionFailed("boom")

    monkeypatch.setattr(explain, "explanations_build", failing)
    response = client.post(reverse("analyzer:analyze"), {"text": "idiot", "explain": "on"})
    assert response.status_code == 200
    assert "could not be explained" in response.content.decode()
