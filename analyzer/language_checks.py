"""Whether the model that scored a text reads the text's language, for a note on the results
page and a field in the API."""

from dataclasses import dataclass

from django.utils.translation import get_language_info

from analyzer.checkpoints import FALLBACK_LANGUAGES, known_model
from analyzer.engines.runtime import Runtime
from analyzer.languages import UNDETERMINED, language_covered, language_detect
from analyzer.models import Analysis


def language_name(code: str) -> str:
    """Return the English name of a language code ("de" -> "German"), or the code itself."""
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return code


@dataclass(frozen=True)
class LanguageCheck:
    """A text's language, and whether the model that scored it was trained on that language."""

    detected: str  # ISO 639-1 code, or "und" when the detector cannot tell
    covered: bool | None  # None: the model is none that toxmon knows the languages of
    model_languages: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return language_name(self.detected)

    @property
    def model_language_names(self) -> list[str]:
        return [language_name(code) for code in self.model_languages]

    def as_dict(self) -> dict[str, object]:
        return {"detected": self.detected, "covered": self.covered}


def language_check(*, analysis: Analysis) -> LanguageCheck:
    """Tell whether the model that scored an analysis reads the language of its text."""
    if analysis.engine == Runtime.PROFANITY_CHECK:
        supported: tuple[str, ...] | None = FALLBACK_LANGUAGES
    else:
        known = known_model(model=analysis.model_name, labels=list(analysis.scores))
        supported = known.languages if known is not None else None
    detected = language_detect(text=analysis.text)
    code = detected.code if detected.reliable else UNDETERMINED
    if supported is None:
        return LanguageCheck(detected=code, covered=None)
    return LanguageCheck(
        detected=code,
        covered=language_covered(detected=detected, supported=supported),
        model_languages=supported,
    )
