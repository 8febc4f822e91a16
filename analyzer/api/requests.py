"""The body of POST /api/v1/analyze, validated field by field."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from analyzer.validators import validate_text


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
    errors: dict[str, list[object]] = {}
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
                errors[f"texts[{index}]"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return AnalyzeRequest(
        texts=list(texts or []),
        store=payload.get("store", True),
        explain=payload.get("explain", False),
    )
