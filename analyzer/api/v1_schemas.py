"""The request and response bodies of /api/v1/: they validate, shape and document the API.

django-ninja builds the OpenAPI document from these classes, so a field or constraint added here
is enforced and documented at once. Texts are checked by the same validator as the form.
"""

from typing import Annotated

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictStr

from analyzer.models import Action, Verdict
from analyzer.validators import validate_text

# Any character but the controls the validator refuses (tabs and line breaks are fine), with at
# least one that is not white space. Lone surrogates are refused too, but a pattern cannot name
# them: they are not characters.
ALLOWED = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]"
TEXT_PATTERN = rf"^{ALLOWED}*[^\s\u0000-\u001F\u007F-\u009F]{ALLOWED}*$"


def text_checked(text: str) -> str:
    """Return text if the form would accept it; else raise with the form's message."""
    try:
        validate_text(text)
    except DjangoValidationError as error:
        raise ValueError(" ".join(error.messages)) from None
    return text


# validate_text enforces the length and characters with the form's messages; the same limits
# are written into the document for clients and schemathesis.
Text = Annotated[
    StrictStr,
    AfterValidator(text_checked),
    Field(
        description="Not blank; no control characters but tabs and line breaks.",
        json_schema_extra={
            "minLength": 1,
            "maxLength": settings.TOXMON_MAX_CHARS,
            "pattern": TEXT_PATTERN,
        },
    ),
]
Score = Annotated[float, Field(ge=0, le=1)]


class AnalyzeRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "texts": ["You are a complete idiot", "Have a nice day"],
                "store": False,
                "explain": True,
            }
        },
    )

    texts: list[Text] = Field(min_length=1, max_length=settings.TOXMON_API_MAX_TEXTS)
    store: StrictBool = Field(True, description="false: analyze without keeping the texts.")
    explain: StrictBool = Field(
        False, description="true: add the spans of words that raise the score."
    )


class SpanOut(Schema):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(
        description="The original text from start to end (offsets in Unicode code points)."
    )
    contribution: float = Field(
        description="How much the top label's score falls without this word (negative: it rises)."
    )


class LanguageOut(Schema):
    detected: str = Field(
        description='ISO 639-1 code of the text\'s language; "und" when it cannot be told.'
    )
    covered: bool | None = Field(
        description="Whether the model was trained on that language (true when undetermined); "
        "null for a model whose languages toxmon does not know."
    )


class ResultOut(Schema):
    id: int | None = Field(description="The stored analysis; null when store is false.")
    scores: dict[str, Score] = Field(description="Every label of the engine with its score.")
    verdict: Verdict
    action: Action = Field(
        description="What the label policy does with the text: allow, review or block."
    )
    top_label: str
    max_score: Score
    windows: int = Field(ge=1)
    language: LanguageOut
    spans: list[SpanOut] = Field(
        default_factory=list,
        description="Only with explain: each word and its contribution.",
    )


class AnalyzeResponse(Schema):
    engine: str
    model: str
    fallback: bool = Field(description="true when the offline fallback engine answered.")
    threshold: Score
    policy_version: int | None = Field(
        description="The label policy version the texts were judged under."
    )
    latency_ms: float = Field(ge=0)
    stored: bool
    results: list[ResultOut]


class FieldError(Schema):
    field: str
    detail: str


class Problem(Schema):
    """An error, as problem details (RFC 9457)."""

    type: str = Field(json_schema_extra={"format": "uri-reference"})
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(
        default_factory=list, description="With 422: each invalid field and why."
    )
