import unicodedata
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
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
    explain = forms.BooleanField(
        label=_("Show which words raised the score"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].widget.attrs["data-max-chars"] = settings.TOXMON_MAX_CHARS

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        validate_text(text)
        return text


class BatchUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File of texts"),
        validators=[FileExtensionValidator(["txt", "csv"], _("Upload a .txt or .csv file."))],
        help_text=_(
            "A .txt file with one text a line, or a .csv file with a header row; "
            "up to %(limit)s texts."
        )
        % {"limit": f"{settings.TOXMON_BATCH_MAX_TEXTS:,}"},
        error_messages={"required": _("Choose a .txt or .csv file to upload.")},
    )
    column = forms.CharField(
        label=_("CSV column"),
        required=False,
        initial="text",
        max_length=255,
        help_text=_("For a .csv file: the header of the column that holds the texts."),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        limit = settings.TOXMON_BATCH_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s bytes; the limit is %(limit)s bytes."),
                code="max_size",
                params={"size": f"{upload.size:,}", "limit": f"{limit:,}"},
            )
        return upload

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        is_csv = upload is not None and upload.name.lower().endswith(".csv")
        if is_csv and not (cleaned.get("column") or "").strip():
            self.add_error("column", _("Name the column that holds the texts."))
        return cleaned


@dataclass(frozen=True)
class AnalyzeRequest:
    """A validated body of POST /api/v1/analyze."""

    texts: list[str]
    store: bool = True
    explain: bool = False


ANALYZE_REQUEST_FIELDS = {"texts", "store", "explain"}


def analyze_request_clean(payload: object) -> AnalyzeRequest:
    """Return the API request in payload, or raise ValidationError naming each bad field."""
    if not isinstance(payload, dict):
        raise ValidationError({"(body)": [_("The body must be a JSON object.")]})
    errors: dict[str, list[str]] = {}
    for field in sorted(set(payload) - ANALYZE_REQUEST_FIELDS):
        errors[field] = [_("Unknown field; the fields are texts, store and explain.")]
    for field in ("store", "explain"):
        if field in payload and not isinstance(payload[field], bool):
            errors[field] = [_("Must be true or false.")]
    texts = payload.get("texts")
    limit = settings.TOXMON_API_MAX_TEXTS
    if "texts" not in payload:
        errors["texts"] = [_("This field is required.")]
    elif not isinstance(texts, list):
        errors["texts"] = [_("Must be a list of strings.")]
    elif not 1 <= len(texts) <= limit:
        errors["texts"] = [_("Send from 1 to %(limit)s texts.") % {"limit": limit}]
    else:
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                errors[f"texts[{index}]"] = [_("Must be a string.")]
                continue
            try:
                validate_text(text)
            except ValidationError as error:
                errors[f"texts[{index}]"] = error.messages
    if errors:
        raise ValidationError(errors)
    return AnalyzeRequest(
        texts=texts, store=payload.get("store", True), explain=payload.get("explain", False)
    )
