"""Explanations on the real offline engine (alt-profanity-check), no fakes."""

import pytest

from analyzer.engines import loader
from analyzer.explain import explanations_build
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
    [spans] = explanations_build(analyses=[analysis])
    top = max(spans, key=lambda span: span.contribution)
    assert top.text == "idiot"
    assert top.contribution > 0
    for span in spans:
        assert text[span.start : span.end] == span.text
