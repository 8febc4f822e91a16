"""The web forms: they validate input and nothing else."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from analyzer.models import LabelPolicy, ReviewDecision, WebhookEndpoint
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


class ReviewForm(forms.Form):
    """A reviewer's decision on one analysis or a selection of them."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    labels = forms.MultipleChoiceField(
        label=_("Labels that were right"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For a toxic text. None ticked: the labels that made the action (or the top label)."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        labels: Sequence[str],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        field = self.fields["labels"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(label, label) for label in labels]


class CalibrationForm(forms.Form):
    """The calibration report's one question: which precision must a suggestion reach?"""

    precision = forms.FloatField(
        label=_("Target precision (%)"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_("Empty: suggest the threshold with the best F1."),
        widget=forms.NumberInput(attrs={"step": "any", "size": 6}),
    )

    def target(self) -> float | None:
        """Return the target precision as a fraction, or None for the best F1."""
        if not self.is_valid() or self.cleaned_data["precision"] is None:
            return None
        return float(self.cleaned_data["precision"]) / 100


class SuggestionApplyForm(forms.Form):
    """Applying one suggested threshold from the calibration report."""

    label = forms.CharField(max_length=64)
    kind = forms.ChoiceField(choices=[("review", "review"), ("block", "block")])
    threshold = forms.FloatField(min_value=0.0001, max_value=1.0)
    precision = forms.FloatField(required=False, min_value=1, max_value=100)


class LabelPolicyForm(forms.ModelForm):
    """Admin's form for one label's thresholds, with the reason kept in its history."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=100,
        help_text=_("Kept in the history with your name and the time."),
    )

    class Meta:
        model = LabelPolicy
        fields = ["review_threshold", "block_threshold"]


class WebhookEndpointForm(forms.ModelForm):
    """Admin's form for an endpoint: the secret can be set or replaced, never read back."""

    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("http or https URL that receives a POST per analysis."),
    )

    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        min_length=16,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 16 characters; the receiver checks signatures with it. Not shown again; "
            "leave empty to keep the current one."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "on_review", "on_block", "is_active"]

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data["secret"]
        if secret:
            return secret
        if self.instance.pk is None:
            raise ValidationError(_("Enter a secret for the new endpoint."), code="required")
        return str(self.instance.secret)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("on_review") and not cleaned.get("on_block"):
            self.add_error("on_block", _("Choose at least one action to be told about."))
        return cleaned
