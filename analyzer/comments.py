"""Perspective's two comment operations on toxmon's engine: score a comment the way
AnalyzeComment does, and keep a person's suggested scores (SuggestCommentScore) as feedback.

Refusals carry Perspective's own wording, because clients match on it (docs/perspective.md).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from analyzer import services
from analyzer.engines import loader
from analyzer.engines.base import Engine, ModelUnavailable
from analyzer.languages import MODEL_LANGUAGES, language_detect, language_supported
from analyzer.models import Analysis, Feedback, Source
from analyzer.perspective_attributes import attribute_labels
from analyzer.sentences import Sentence, sentences_split
from analyzer.utf16 import utf16_length, utf16_offsets

# Perspective's limit, counted in UTF-8 bytes, not characters.
TEXT_MAX_BYTES = 20480
# What toxic-bert and the offline fallback read; a model MODEL_LANGUAGES does not name is
# assumed to read English, as every Detoxify checkpoint does.
DEFAULT_LANGUAGES = ("en",)
# A language tag as BCP 47 writes it ("en", "pt-BR", "zh-Hant-TW"), or with "_" ("en_US").
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")


class CommentRefused(ValueError):
    """The request breaks one of Perspective's rules; the message is Perspective's wording.

    A ValueError, so the request schemas can raise it from their validators too.
    """

    def __init__(
        self, message: str, *, error_type: str | None = None, detail: dict | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Perspective's ErrorType (COMMENT_EMPTY, ...) where it names one, and its fields.
        self.error_type = error_type
        self.detail = detail or {}


@dataclass(frozen=True)
class SpanScore:
    """A sentence's score, its offsets in UTF-16 code units (end exclusive)."""

    begin: int
    end: int
    score: float


@dataclass(frozen=True)
class AttributeScore:
    summary: float
    spans: list[SpanScore] = field(default_factory=list)


@dataclass(frozen=True)
class CommentScores:
    """What AnalyzeComment answers, with the analysis that was stored (None with doNotStore)."""

    attribute_scores: dict[str, AttributeScore]
    languages: list[str]
    detected_languages: list[str]
    analysis: Analysis | None


def comment_text_checked(text: str) -> str:
    """Return text if Perspective and toxmon's storage accept it; else raise CommentRefused."""
    if not text:
        raise CommentRefused("Comment must be non-empty.", error_type="COMMENT_EMPTY")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > TEXT_MAX_BYTES:
        raise CommentRefused(
            f"Comment text was too many bytes. Value ({size}) exceeded limit ({TEXT_MAX_BYTES}).",
            error_type="COMMENT_TOO_LONG",
        )
    # Neither can be stored (PostgreSQL refuses NUL, UTF-8 has no lone surrogates); Perspective
    # itself would not read them either.
    if "\x00" in text:
        raise CommentRefused("Comment text contains a NUL character (U+0000); remove it.")
    if re.search("[\ud800-\udfff]", text):
        raise CommentRefused(
            "Comment text contains an unpaired UTF-16 surrogate, which is no character."
        )
    return text


def engine_served() -> Engine:
    """Return the engine, or raise PredictionFailed when no model can be served."""
    try:
        return loader.engine_get()
    except ModelUnavailable as error:
        raise services.PredictionFailed(str(error)) from error


def model_languages(*, model: str) -> tuple[str, ...]:
    """Return the languages the served model reads."""
    return MODEL_LANGUAGES.get(model, DEFAULT_LANGUAGES)


def language_readable(*, language: str, supported: Sequence[str]) -> bool:
    """Tell whether a requested language tag names one of the model's languages."""
    return LANGUAGE_TAG.fullmatch(language) is not None and language_supported(
        language=language, supported=supported
    )


def attributes_answered(*, engine: Engine, attributes: Sequence[str]) -> dict[str, str]:
    """Return each requested attribute with the model label that answers it.

    Raise CommentRefused, naming the first attribute the model cannot answer.
    """
    served = attribute_labels(labels=engine.labels)
    for attribute in attributes:
        if attribute not in served:
            raise CommentRefused(f"Unknown requested attribute: {attribute}")
    return {attribute: served[attribute] for attribute in attributes}


def language_refusal(*, attribute: str, languages: Sequence[str]) -> CommentRefused:
    """Return Perspective's refusal of request languages, which names one attribute."""
    return CommentRefused(
        f"Attribute {attribute} does not support request languages: {', '.join(languages)}",
        error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        detail={"languageNotSupportedByAttributeError": {"attribute": attribute}},
    )


def language_detected(*, text: str, readable: Sequence[str]) -> tuple[str, str]:
    """Return the language text is scored as, and the language detected in it."""
    detected = language_detect(text=text)
    # The model scores every comment; an unsure detection, or a language the model does not
    # read, is scored as the model's own language and only reported as detected.
    if detected.reliable and language_supported(language=detected.code, supported=readable):
        return detected.code, detected.code
    return readable[0], detected.code


def attribute_scores_build(
    *,
    text: str,
    thresholds: Mapping[str, float | None],
    labels: Mapping[str, str],
    sentences: Sequence[Sentence],
    scores_of: Mapping[str, Mapping[str, float]],
) -> dict[str, AttributeScore]:
    """Return each attribute's summary and sentence scores, leaving out those under threshold."""
    offsets = utf16_offsets(
        text=text,
        offsets=[bound for sentence in sentences for bound in (sentence.start, sentence.end)],
    )
    attribute_scores = {}
    for attribute, threshold in thresholds.items():
        label = labels[attribute]
        summary = scores_of[text][label]
        # "Below" is strict: a score equal to the threshold is returned.
        if threshold is not None and summary < threshold:
            continue
        span_scores = []
        for index, sentence in enumerate(sentences):
            score = scores_of[sentence.text][label]
            if threshold is None or score >= threshold:
                begin, end = offsets[2 * index], offsets[2 * index + 1]
                span_scores.append(SpanScore(begin=begin, end=end, score=score))
        attribute_scores[attribute] = AttributeScore(summary=summary, spans=span_scores)
    return attribute_scores


def comment_analyze(
    *,
    text: str,
    thresholds: Mapping[str, float | None],
    spans: bool = False,
    languages: Sequence[str] = (),
    drop_unsupported: bool = False,
    store: bool = True,
    session_id: str = "",
    community_id: str = "",
    client_token: str = "",
) -> CommentScores:
    """Score a comment for the requested attributes (each with its threshold, or None).

    The whole text and, with spans, each of its sentences are scored in one engine call.
    Scores under an attribute's threshold are left out, as Perspective leaves them out.
    """
    engine = engine_served()
    labels = attributes_answered(engine=engine, attributes=list(thresholds))
    readable = model_languages(model=engine.model)
    detected_languages: list[str] = []
    if not languages:
        scored_as, detected = language_detected(text=text, readable=readable)
        languages_out, detected_languages = [scored_as], [detected]
    elif any(language_readable(language=tag, supported=readable) for tag in languages):
        languages_out = list(languages)
    elif drop_unsupported:
        # Every attribute is the same model, so none supports the languages: all are dropped.
        return CommentScores(
            attribute_scores={}, languages=list(languages), detected_languages=[], analysis=None
        )
    else:
        raise language_refusal(attribute=next(iter(thresholds)), languages=languages)

    sentences = sentences_split(text=text) if spans else []
    # The text and its distinct sentences, in one call; a one-sentence comment is scored once.
    texts = list(dict.fromkeys([text, *(sentence.text for sentence in sentences)]))
    engine, predictions, seconds = services.texts_predict(texts=texts)
    [analysis] = services.analyses_from_predictions(
        texts=[text],
        engine=engine,
        predictions=predictions[:1],
        seconds=seconds,
        source=Source.PERSPECTIVE,
    )
    attribute_scores = attribute_scores_build(
        text=text,
        thresholds=thresholds,
        labels=labels,
        sentences=sentences,
        scores_of={
            scored: prediction.scores for scored, prediction in zip(texts, predictions, strict=True)
        },
    )
    if store:
        analysis.session_id = session_id
        analysis.community_id = community_id
        analysis.client_token = client_token
        analysis.full_clean(exclude=["policy_version"])
        services.analyses_save(analyses=[analysis])
    return CommentScores(
        attribute_scores=attribute_scores,
        languages=languages_out,
        detected_languages=detected_languages,
        analysis=analysis if store else None,
    )


def spans_checked(*, text: str, span_scores: Mapping[str, Sequence[SpanScore]]) -> None:
    """Refuse a suggested span that does not lie inside the text."""
    length = utf16_length(text=text)
    for attribute, spans in span_scores.items():
        for span in spans:
            if not 0 <= span.begin <= span.end <= length:
                raise CommentRefused(
                    f"Span [{span.begin}, {span.end}) of {attribute} is outside the comment, "
                    f"which is {length} UTF-16 code units long."
                )


def comment_score_suggest(
    *,
    text: str,
    scores: Mapping[str, float],
    span_scores: Mapping[str, Sequence[SpanScore]],
    client_token: str = "",
    community_id: str = "",
) -> Feedback:
    """Keep suggested scores as feedback on the latest analysis of the same text.

    A text never analysed (or analysed with doNotStore) is scored and stored first, so every
    feedback sits beside what the model said.
    """
    engine = engine_served()
    attributes_answered(engine=engine, attributes=list(dict.fromkeys([*scores, *span_scores])))
    spans_checked(text=text, span_scores=span_scores)
    latest = Analysis.objects.filter(text=text).order_by("-created_at", "-id").first()
    if latest is not None:
        analysis = latest
    else:
        # Scored outside the transaction: a model call must not hold the database.
        [analysis] = services.analyses_build(texts=[text], source=Source.PERSPECTIVE)
        analysis.community_id = community_id
        analysis.client_token = client_token
        analysis.full_clean(exclude=["policy_version"])
    feedback = Feedback(
        scores=dict(scores),
        span_scores={
            attribute: [{"begin": s.begin, "end": s.end, "score": s.score} for s in spans]
            for attribute, spans in span_scores.items()
        },
        client_token=client_token,
        community_id=community_id,
    )
    with transaction.atomic():
        if analysis.pk is None:
            services.analyses_insert(analyses=[analysis])
        feedback.analysis = analysis
        feedback.full_clean()
        feedback.save()
    return feedback
