"""Explanations on the real offline engine (alt-profanity-check), no fakes."""

import pytest

from analyzer.engines import loader
from analyzer.explain import Budget, explanations_build
from analyzer.services import analyses_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def offline_engine(settings, tmp_path, fresh_classifier):
    settings.TOXMON_MODEL = str(tmp_path / "no-such-model")
    settings.TOXMON_REQUIRE_MODEL = False
    engine = loader.engine_get()
    assert engine.fallback
    return engine


@pytest.mark.parametrize(
    "text",
    [
        "Thanks so much for the lovely and helpful answer, you idiot, have a wonderful day",
        "You idiot, thank you kindly for the warm welcome my dear friend",
        "Merci beaucoup 😊 for the wonderful café recommendation, you idiot 🙏 — naïve me!",
    ],
)
def test_the_one_insult_among_friendly_words_contributes_most(offline_engine, text):
    [analysis] = analyses_build(texts=[text])
    [explanation] = explanations_build(analyses=[analysis])
    top = max(explanation.spans, key=lambda span: span.contribution)
    assert top.text == "idiot"
    assert top.contribution > 0
    for span in explanation.spans:
        assert text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    "text",
    [
        "Thanks so much for the lovely and helpful answer yesterday, you idiot, have a "
        "wonderful day and a great week",
        "I read the whole thread twice and I still think that you are a complete idiot and a "
        "fool for writing it",
        "What a stupid and disgusting thing to say to people who only wanted to help you today",
    ],
)
def test_coarse_to_fine_finds_the_same_top_word_as_one_copy_per_word(offline_engine, text):
    [analysis] = analyses_build(texts=[text])
    [full] = explanations_build(analyses=[analysis], budget=Budget(fine_words=1000))
    [coarse] = explanations_build(analyses=[analysis], budget=Budget(fine_words=8))
    assert coarse.model_inputs < full.model_inputs
    top_full = max(full.spans, key=lambda span: span.contribution)
    top_coarse = max(coarse.spans, key=lambda span: span.contribution)
    assert (top_coarse.start, top_coarse.end) == (top_full.start, top_full.end)
    assert top_coarse.contribution == pytest.approx(top_full.contribution)
