"""The bodies of Perspective's comments:analyze and comments:suggestscore, in proto3's JSON.

Field names are Perspective's (lowerCamelCase) so that its clients' requests validate as they
are. They validate, shape and document the /v1alpha1/ routes; a refusal raised here carries
Perspective's wording (comments.CommentRefused).
"""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from analyzer.comments import TEXT_MAX_BYTES, CommentRefused, comment_text_checked
from analyzer.perspective_attributes import KNOWN_ATTRIBUTES

# proto3's JSON lets a client send null for any field it leaves at its default.
STRICT = ConfigDict(extra="forbid")
# Perspective's score types; only PROBABILITY is served (an unset type means it).
SERVED_SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY")
PERSPECTIVE_SCORE_TYPES = (*SERVED_SCORE_TYPES, "STD_DEV_SCORE", "PERCENTILE", "RAW")
TextType = Literal["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]
ID_MAX_LENGTH = 255

Id = Annotated[StrictStr, Field(max_length=ID_MAX_LENGTH)]
Probability = Annotated[StrictFloat, Field(ge=0, le=1)]


def comment_type_checked(text_type: str | None) -> str | None:
    if text_type == "HTML":
        raise CommentRefused("Currently, only 'PLAIN_TEXT' comments are supported")
    return text_type


CommentText = Annotated[
    StrictStr,
    AfterValidator(comment_text_checked),
    Field(
        description=f"The comment, at most {TEXT_MAX_BYTES:,} bytes in UTF-8.",
        json_schema_extra={
            "minLength": 1,
            # Characters, as JSON Schema counts: a bound the byte limit always keeps under.
            "maxLength": TEXT_MAX_BYTES,
            "pattern": "^[^\\u0000]*$",
        },
    ),
]


class TextEntry(Schema):
    """A piece of text: a comment, or context around it."""

    model_config = STRICT

    text: StrictStr | None = None
    type: TextType | None = None


class Comment(Schema):
    model_config = STRICT

    text: CommentText
    type: Annotated[
        TextType | None,
        AfterValidator(comment_type_checked),
        Field(
            description="PLAIN_TEXT, or unset; HTML is refused as Perspective refuses it.",
            json_schema_extra={"enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", None]},
        ),
    ] = None


class ArticleAndParentComment(Schema):
    model_config = STRICT

    article: TextEntry | None = None
    parentComment: TextEntry | None = None


class Context(Schema):
    """The thread around the comment; accepted, not used for scoring."""

    model_config = STRICT

    entries: list[TextEntry] | None = None
    articleAndParentComment: ArticleAndParentComment | None = None

    @model_validator(mode="after")
    def one_form(self) -> "Context":
        if self.entries and self.articleAndParentComment is not None:
            raise CommentRefused(
                "Context can have either entries or article_and_parent_comment, "
                "but both fields were populated."
            )
        return self


class AttributeParameters(Schema):
    model_config = STRICT

    scoreType: StrictStr | None = Field(
        None,
        description="PROBABILITY (the default); Perspective's other score types are refused.",
        json_schema_extra={"enum": [*SERVED_SCORE_TYPES, None]},
    )
    scoreThreshold: StrictFloat | None = Field(
        None, description="Leave out this attribute's scores below it."
    )


def requested_attributes_checked(
    attributes: dict[str, AttributeParameters],
) -> dict[str, AttributeParameters]:
    if not attributes:
        raise CommentRefused("Missing requested_attributes", error_type="NO_REQUESTED_ATTRIBUTES")
    for name, parameters in attributes.items():
        score_type = parameters.scoreType
        if score_type is None or score_type in SERVED_SCORE_TYPES:
            continue
        if score_type in PERSPECTIVE_SCORE_TYPES:
            raise CommentRefused(
                f"Requested score type {score_type} is not supported by attribute {name}"
            )
        raise CommentRefused(f"Invalid value at 'requested_attributes[{name}].score_type'")
    return attributes


# Emptiness is refused by the validators, in Perspective's words; the document says it too.
ATTRIBUTE_NAMES = {
    "propertyNames": {"enum": list(KNOWN_ATTRIBUTES)},
    "minProperties": 1,
}


class AnalyzeCommentRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "comment": {"text": "Thanks for the article! You are an idiot."},
                "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.5}},
                "spanAnnotations": True,
                "languages": ["en"],
                "doNotStore": True,
                "clientToken": "comment-53922",
            }
        },
    )

    comment: Comment
    context: Context | None = None
    requestedAttributes: Annotated[
        dict[str, AttributeParameters],
        AfterValidator(requested_attributes_checked),
        Field(
            description="Perspective's attribute names, each with its parameters; the served "
            "model answers some of them (docs/perspective.md).",
            json_schema_extra=ATTRIBUTE_NAMES,
        ),
    ]
    spanAnnotations: StrictBool | None = Field(
        None, description="true: also score each sentence (offsets in UTF-16 code units)."
    )
    languages: list[StrictStr] | None = Field(
        None, description="Language tags; detected when absent. Others than the model's refused."
    )
    doNotStore: StrictBool | None = Field(None, description="true: keep nothing of this request.")
    clientToken: Id | None = Field(None, description="Echoed in the response.")
    sessionId: Id | None = Field(None, description="Stored with the analysis.")
    communityId: Id | None = Field(None, description="Stored with the analysis.")
    dropUnsupportedAttributes: StrictBool | None = Field(
        None,
        description="true: answer without scores instead of refusing unsupported languages.",
    )


class Score(Schema):
    value: float
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SpanScoreOut(Schema):
    begin: int = Field(ge=0, description="UTF-16 code units into comment.text.")
    end: int = Field(ge=0, description="UTF-16 code units, exclusive.")
    score: Score


class AttributeScoresOut(Schema):
    summaryScore: Score
    spanScores: list[SpanScoreOut] = Field(
        default_factory=list, description="With spanAnnotations: each sentence's score."
    )


class AnalyzeCommentResponse(Schema):
    attributeScores: dict[str, AttributeScoresOut] = Field(
        default_factory=dict,
        description="Left out when every score was under its threshold.",
    )
    languages: list[str] = Field(description="The languages the comment was scored as.")
    detectedLanguages: list[str] = Field(
        default_factory=list, description="When no languages were sent: what was detected."
    )
    clientToken: str = Field("", description="The request's, when it sent one.")


class ScoreIn(Schema):
    model_config = STRICT

    value: Probability
    type: StrictStr | None = Field(None, json_schema_extra={"enum": [*SERVED_SCORE_TYPES, None]})

    @model_validator(mode="after")
    def probability(self) -> "ScoreIn":
        if self.type is not None and self.type not in SERVED_SCORE_TYPES:
            raise CommentRefused(f"Score type {self.type} is not supported; send PROBABILITY.")
        return self


class SpanScoreIn(Schema):
    model_config = STRICT

    begin: StrictInt = Field(ge=0, description="UTF-16 code units into comment.text.")
    end: StrictInt = Field(ge=0, description="UTF-16 code units, exclusive.")
    score: ScoreIn


class AttributeScoresIn(Schema):
    model_config = STRICT

    summaryScore: ScoreIn | None = None
    spanScores: list[SpanScoreIn] | None = None


def suggested_checked(attributes: dict[str, AttributeScoresIn]) -> dict[str, AttributeScoresIn]:
    if not attributes:
        raise CommentRefused("Missing attribute_scores")
    for name, scores in attributes.items():
        if scores.summaryScore is None and not scores.spanScores:
            raise CommentRefused(f"Attribute {name} has neither a summaryScore nor spanScores.")
    return attributes


class SuggestCommentScoreRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "comment": {"text": "Oi, tudo bem?"},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
                "languages": ["pt"],
                "communityId": "Coral:https://forum.example.org/",
                "clientToken": "comment:e53cbeba-796b-4930-b16e-1f1a8ad20766",
            }
        },
    )

    comment: Comment
    context: Context | None = None
    attributeScores: Annotated[
        dict[str, AttributeScoresIn],
        AfterValidator(suggested_checked),
        Field(
            description="The score each attribute should have had.",
            json_schema_extra=ATTRIBUTE_NAMES,
        ),
    ]
    languages: list[StrictStr] | None = Field(None, description="Accepted, not used.")
    communityId: Id | None = Field(None, description="Stored with the feedback.")
    clientToken: Id | None = Field(None, description="Stored with the feedback and echoed.")
    sessionId: Id | None = Field(None, description="Accepted, not used.")


class SuggestCommentScoreResponse(Schema):
    clientToken: str = Field("", description="The request's, when it sent one.")


class ErrorBody(Schema):
    code: int = Field(description="The HTTP status.")
    message: str
    status: str = Field(description="Google's canonical code: INVALID_ARGUMENT, ...")
    details: list[dict[str, Any]] = Field(
        default_factory=list, description="Typed details, each with an @type."
    )


class GoogleError(Schema):
    """An error, as Google's APIs and Perspective answer it."""

    error: ErrorBody
