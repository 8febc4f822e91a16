import unicodedata

from django import forms
from django.conf import settings
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


class AnalyzeForm(forms.Form):
    text = forms.CharField(
        label=_("Sentence or comment"),
        # No maxlength attribute: the browser would cut pasted text silently; the limit is
        # checked below with a message instead.
        widget=forms.Textarea(attrs={"rows": 6, "aria-describedby": "text-help"}),
        error_messages={"required": _("Enter a sentence or comment to analyze.")},
        help_text=_("English text, up to %(limit)s characters.")
        % {"limit": f"{settings.TOXMON_MAX_CHARS:,}"},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs["data-max-chars"] = settings.TOXMON_MAX_CHARS

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        limit = settings.TOXMON_MAX_CHARS
        if len(text) > limit:
            raise forms.ValidationError(
                _("The text is %(length)s characters long; the limit is %(limit)s. Shorten it."),
                code="max_length",
                params={"length": f"{len(text):,}", "limit": f"{limit:,}"},
            )
        found = control_characters(text)
        if found:
            raise forms.ValidationError(
                _("The text contains control characters (%(codes)s); remove them."),
                code="control_characters",
                params={"codes": ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))},
            )
        return text
