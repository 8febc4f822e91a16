"""Checks a text must pass before it is scored, shared by the form, the API and batch files."""

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Tabs and line breaks are ordinary in comments; every other control character is not text.
ALLOWED_CONTROL_CHARACTERS = {"\t", "\n", "\r"}


def control_characters(text: str) -> list[str]:
    """Return the control characters in text that are not tabs or line breaks."""
    return [
        character
        for character in text
        if unicodedata.category(character) == "Cc" and character not in ALLOWED_CONTROL_CHARACTERS
    ]


def validate_text(text: str) -> None:
    """Refuse a text that is blank, over TOXMON_MAX_CHARS, or has control characters."""
    if not text.strip():
        raise ValidationError(_("Enter a sentence or comment to analyze."), code="required")
    limit = settings.TOXMON_MAX_CHARS
    if len(text) > limit:
        raise ValidationError(
            _("The text is %(length)s characters long; the limit is %(limit)s. Shorten it."),
            code="max_length",
            params={"length": f"{len(text):,}", "limit": f"{limit:,}"},
        )
    found = control_characters(text)
    if found:
        raise ValidationError(
            _("The text contains control characters (%(codes)s); remove them."),
            code="control_characters",
            params={"codes": ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))},
        )
    # JSON can carry half of a surrogate pair, which is no character and cannot be stored.
    if any(unicodedata.category(character) == "Cs" for character in text):
        raise ValidationError(
            _("The text contains unpaired surrogates, which are not characters; remove them."),
            code="surrogates",
        )
