import math
import re

import pytest
from django.urls import reverse

from analyzer import explanation_links, metrics
from analyzer.engines.microbatcher import Overloaded, Priority
from analyzer.explain import Budget, explanations_build
from analyzer.highlights import Level, Span, segments_from_spans
from analyzer.occlusion import PIECE_WORDS, grouped_spans, occluded, pieces_split, word_spans
from analyzer.sentences import sentences_split
from analyzer.services import ModelBusy, PredictionFailed, analyses_build

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
    assert len(fake_engine.calls) == 1, "one sentence each: every occlusion in one call"
    assert len(fake_engine.calls[0]) == len(first.spans) + len(second.spans)
    top = max(first.spans, key=lambda span: span.contribution)
    assert top.text == "idiot" and top.contribution == pytest.approx(0.97 - 0.02)
    assert all(span.contribution == 0 for span in second.spans)
    assert first.model_inputs == 5, "one copy per word, no sentence scores for one sentence"


def test_explanations_queue_behind_analyses(fake_engine):
    analyses = analyses_build(texts=["Have a lovely day. You idiot."])
    fake_engine.priorities.clear()
    explanations_build(analyses=analyses, budget=Budget(wait_seconds=0.25))
    assert fake_engine.priorities == [Priority.EXPLANATION, Priority.EXPLANATION]


def test_each_sentence_is_scored_alone_then_only_the_flagged_one_is_occluded(fake_engine):
    text = "Have a lovely day. Thanks for all the help with the move. You are an idiot, friend."
    analyses = analyses_build(texts=[text])
    fake_engine.calls.clear()
    [explanation] = explanations_build(analyses=analyses)
    sentences, copies = fake_engine.calls
    assert sentences == [
        "Have a lovely day.",
        "Thanks for all the help with the move.",
        "You are an idiot, friend.",
    ]
    assert copies == [
        "are an idiot, friend.",
        "You an idiot, friend.",
        "You are idiot, friend.",
        "You are an, friend.",
        "You are an idiot,.",
    ], "words are removed from the flagged sentence alone"
    assert [piece.explained for piece in explanation.pieces] == [False, False, True]
    assert [piece.score for piece in explanation.pieces] == [0.02, 0.02, 0.97]
    assert explanation.model_inputs == 3 + 5
    for span in explanation.spans:
        assert text[span.start : span.end] == span.text
    top = max(explanation.spans, key=lambda span: span.contribution)
    assert (top.text, top.start) == ("idiot", text.index("idiot"))


def test_a_flat_text_explains_its_best_sentences_up_to_the_budget(fake_engine):
    text = "One thing here. Another thing there. A third thing. A fourth one."
    analyses = analyses_build(texts=[text])
    [explanation] = explanations_build(analyses=analyses, budget=Budget(sentences=2))
    assert sum(piece.explained for piece in explanation.pieces) == 2
    [explanation] = explanations_build(analyses=analyses, budget=Budget(sentences=1))
    assert sum(piece.explained for piece in explanation.pieces) == 1


def test_a_sentence_far_below_the_best_is_not_occluded(fake_engine):
    text = "You idiot. Have a lovely day. Thanks again."
    analyses = analyses_build(texts=[text])
    [explanation] = explanations_build(analyses=analyses, budget=Budget(sentences=3))
    assert [piece.explained for piece in explanation.pieces] == [True, False, False]


def test_the_work_does_not_grow_with_the_length_of_the_text(fake_engine):
    def copies_for(sentences: int) -> int:
        text = " ".join(["Have a lovely day my friend."] * sentences + ["You are an idiot."])
        analyses = analyses_build(texts=[text])
        fake_engine.calls.clear()
        explanations_build(analyses=analyses)
        assert len(fake_engine.calls[0]) == sentences + 1, "each sentence scored once"
        return sum(len(call) for call in fake_engine.calls[1:])

    assert copies_for(5) == copies_for(200) == 4, "only the flagged sentence's words"


def test_a_long_text_without_punctuation_is_cut_into_runs_of_words(fake_engine):
    words = ["word"] * 1500 + ["idiot"] + ["word"] * 500
    text = " ".join(words)
    assert len(sentences_split(text=text)) == 1
    pieces = pieces_split(text)
    assert len(pieces) == math.ceil(len(words) / PIECE_WORDS)
    assert all(len(word_spans(text[start:end])) <= PIECE_WORDS for start, end in pieces)
    analyses = analyses_build(texts=[text])
    fake_engine.calls.clear()
    [explanation] = explanations_build(analyses=analyses)
    assert len(fake_engine.calls) == 3, "pieces, then groups, then the best groups' words"
    occlusion_copies = sum(len(call) for call in fake_engine.calls[1:])
    assert occlusion_copies < PIECE_WORDS, "bounded by one piece, not by the text"
    top = max(explanation.spans, key=lambda span: span.contribution)
    assert top.text == "idiot" and text[top.start : top.end] == "idiot"


def test_coarse_to_fine_finds_the_same_top_word_with_fewer_copies(fake_engine):
    text = "Thanks so much for the lovely and helpful answer yesterday, you idiot, have a " + (
        "wonderful day and a great week with your family and friends"
    )
    analyses = analyses_build(texts=[text])
    fake_engine.calls.clear()
    [full] = explanations_build(analyses=analyses, budget=Budget(fine_words=100))
    full_copies = sum(len(call) for call in fake_engine.calls)
    fake_engine.calls.clear()
    [coarse] = explanations_build(analyses=analyses, budget=Budget(fine_words=8))
    coarse_copies = sum(len(call) for call in fake_engine.calls)
    assert full_copies == len(word_spans(text))
    assert coarse_copies < full_copies / 2
    assert len(fake_engine.calls) == 2, "groups, then the words of the best group"

    def top(explanation):
        return max(explanation.spans, key=lambda span: span.contribution)

    assert (top(coarse).text, top(coarse).start) == (top(full).text, top(full).start)
    assert top(coarse).contribution == top(full).contribution
    for span in coarse.spans:
        assert text[span.start : span.end] == span.text


def test_a_text_of_punctuation_alone_has_no_spans_and_no_engine_call(fake_engine):
    analyses = analyses_build(texts=["?!"])
    fake_engine.calls.clear()
    [explanation] = explanations_build(analyses=analyses)
    assert explanation.spans == []
    assert fake_engine.calls == []


def test_the_copies_of_a_text_stay_within_the_span_budget(fake_engine):
    analyses = analyses_build(texts=[" ".join(["word"] * 40)])
    fake_engine.calls.clear()
    [explanation] = explanations_build(analyses=analyses, budget=Budget(spans=3, fine_words=100))
    assert len(explanation.spans) == 3
    assert len(fake_engine.calls[0]) == 3


def test_a_failing_engine_while_explaining_raises_prediction_failed(fake_engine):
    analyses = analyses_build(texts=["hello idiot"])
    fake_engine.error = RuntimeError("boom")
    failures = metrics.PREDICTION_FAILURES.labels(engine="fake")
    failed = metrics.EXPLANATIONS.labels(outcome="failed")
    before, failed_before = failures._value.get(), failed._value.get()
    with pytest.raises(PredictionFailed):
        explanations_build(analyses=analyses)
    assert failures._value.get() == before + 1, "explaining failures count as failures too"
    assert failed._value.get() == failed_before + 1


def test_a_model_too_busy_to_explain_raises_model_busy_and_is_no_failure(fake_engine):
    analyses = analyses_build(texts=["hello idiot"])
    fake_engine.error = Overloaded("waited")
    failures = metrics.PREDICTION_FAILURES.labels(engine="fake")
    busy = metrics.EXPLANATIONS.labels(outcome="busy")
    before, busy_before = failures._value.get(), busy._value.get()
    with pytest.raises(ModelBusy):
        explanations_build(analyses=analyses)
    assert failures._value.get() == before
    assert busy._value.get() == busy_before + 1


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


def explanation_link(html: str) -> str:
    """Return the no-script link of the results page's explanation section."""
    match = re.search(r'<a href="(/explanations/[^"?]+)">Show which words', html)
    assert match, "the results page links to its explanation"
    return match.group(1)


def test_the_results_page_answers_with_the_verdict_before_any_explanation(client, fake_engine):
    response = client.post(
        reverse("analyzer:analyze"), {"text": "Have a lovely day, idiot", "explain": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="toxic"' in html and "<table" in html
    assert "<mark" not in html, "no highlights in the first answer"
    assert len(fake_engine.calls) == 1, "only the analysis was scored"
    link = explanation_link(html)
    assert f'data-explanation-src="{link}?fragment=1"' in html
    assert "js/analyze.js" in html


def test_the_page_script_gets_the_highlights_as_a_fragment(client, fake_engine):
    html = client.post(
        reverse("analyzer:analyze"), {"text": "Have a lovely day, idiot", "explain": "on"}
    ).content.decode()
    response = client.get(explanation_link(html) + "?fragment=1")
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<section class="explanation"')
    assert "<html" not in fragment and "data-explanation-src" not in fragment
    assert '<mark class="contribution contribution-strong"' in fragment
    assert ">idiot</mark>" in fragment
    assert 'class="legend"' in fragment
    for level in Level:
        assert f"contribution-{level.value}" in fragment
    assert "style=" not in fragment and "<script" not in fragment
    assert fake_engine.priorities[-1] == Priority.EXPLANATION


def test_without_javascript_the_link_shows_the_highlights_on_a_page(client, fake_engine):
    text = "Have a lovely day. Thanks for the help, you idiot."
    html = client.post(
        reverse("analyzer:analyze"), {"text": text, "explain": "on"}
    ).content.decode()
    page = client.get(explanation_link(html)).content.decode()
    assert "<html" in page and 'data-verdict="toxic"' in page
    assert ">idiot</mark>" in page
    assert "Each of the 2 sentences was scored alone" in page, "it says what was measured"
    assert "Thanks for the help, you idiot." in page.split("Sentences explained")[1]


@pytest.mark.parametrize("tamper", ["wrong-signature", "other-id", "expired"])
def test_an_explanation_link_works_only_as_signed_and_for_a_while(
    client, fake_engine, settings, tamper
):
    html = client.post(
        reverse("analyzer:analyze"), {"text": "Have a lovely day, idiot", "explain": "on"}
    ).content.decode()
    link = explanation_link(html)
    analysis_id, timestamp, signature = link.removeprefix("/explanations/").split(":")
    if tamper == "wrong-signature":
        link = f"/explanations/{analysis_id}:{timestamp}:{signature[::-1]}"
    elif tamper == "other-id":
        other = analyses_build(texts=["another text, idiot"])[0]
        other.save()
        link = f"/explanations/{other.pk}:{timestamp}:{signature}"
    else:
        settings.TOXMON_EXPLAIN_LINK_SECONDS = -1
    fake_engine.calls.clear()
    assert client.get(link).status_code == 404
    assert client.get(link + "?fragment=1").status_code == 404
    assert fake_engine.calls == [], "nothing was scored"


def test_explanation_links_are_not_guessable_from_the_id(client, fake_engine):
    analysis = analyses_build(texts=["hello idiot"])[0]
    analysis.save()
    assert client.get(f"/explanations/{analysis.pk}").status_code == 404
    assert (
        explanation_links.analysis_from_token(
            token=explanation_links.link_token(analysis_id=analysis.pk)
        )
        == analysis
    )


def test_without_the_checkbox_no_explanation_is_offered(client, fake_engine):
    html = client.post(reverse("analyzer:analyze"), {"text": "idiot"}).content.decode()
    assert "contribution-strong" not in html
    assert "/explanations/" not in html and "data-explanation-src" not in html
    assert len(fake_engine.calls) == 1


def test_the_form_offers_explanations_checked_by_default(client, fake_engine):
    html = client.get(reverse("analyzer:analyze")).content.decode()
    assert 'name="explain"' in html and "checked" in html


def test_an_explanation_failure_says_so_and_the_analysis_stands(client, fake_engine, monkeypatch):
    from analyzer import explain

    def failing(**kwargs):
        raise PredictionFailed("boom")

    html = client.post(
        reverse("analyzer:analyze"), {"text": "idiot", "explain": "on"}
    ).content.decode()
    monkeypatch.setattr(explain, "explanations_build", failing)
    response = client.get(explanation_link(html) + "?fragment=1")
    assert response.status_code == 200
    assert "could not be explained" in response.content.decode()


def test_an_explanation_the_busy_model_could_not_serve_says_so_with_a_503(
    client, fake_engine, monkeypatch
):
    from analyzer import explain

    def busy(**kwargs):
        raise ModelBusy("waited")

    html = client.post(
        reverse("analyzer:analyze"), {"text": "idiot", "explain": "on"}
    ).content.decode()
    link = explanation_link(html)
    monkeypatch.setattr(explain, "explanations_build", busy)
    for url in (link + "?fragment=1", link):
        response = client.get(url)
        assert response.status_code == 503
        assert response["Retry-After"]
        page = response.content.decode()
        assert "The server is busy with other analyses" in page
        assert f'<a href="{link}">Try again</a>' in page
