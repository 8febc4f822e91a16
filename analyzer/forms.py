"""The web forms: they validate input and nothing else."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from analyzer.validators import validate_text


class AnalyzeForm(forms.Form):
    """The text to analyze; templates/analyzer/analyze.html writes out its two fields."""

    text = forms.CharField(
        label=_("Sentence or comment"),
        # The page has no maxlength attribute: the browser would cut pasted text silently; the
        # limit is checked below with a message instead.
        widget=forms.Textarea,
        error_messages={"required": _("Enter a sentence or comment to analyze.")},
        help_text=_("English text, up to %(limit)s characters.")
        % {"limit": f"{settings.TOXMON_MAX_CHARS:,}"},
    )
    explain = forms.BooleanField(
        label=_("Show which words raised the score"),
        required=False,
        initial=True,
    )

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data)
        # The page's character counter shows the limit as the user types.
        self.max_chars = settings.TOXMON_MAX_CHARS

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
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

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.TOXMON_BATCH_MAX_BYTES
        if (upload.size or 0) > limit:
            raise ValidationError(
                _("The file is %(size)s bytes; the limit is %(limit)s bytes."),
                code="max_size",
                params={"size": f"{upload.size:,}", "limit": f"{limit:,}"},
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        is_csv = upload is not None and (upload.name or "").lower().endswith(".csv")
        if is_csv and not (cleaned.get("column") or "").strip():
            self.add_error("column", _("Name the column that holds the texts."))
        return cleaned
