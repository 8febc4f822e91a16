"""Which words push a text's top label up: occlusion, one batched engine call.

Each word is removed in turn and the text scored again; a word's contribution is how much the
top label's score falls without it (negative when the text scores higher without it). All the
occluded texts of all the texts go to the engine in one call.
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from analyzer.models import Analysis
from analyzer.services import texts_predict

WORD = re.compile(r"\S+")


class Level(models.TextChoices):
    """How strongly a word moved the score, for the highlight classes and the legend."""

    STRONG = "strong", _("raises the score a lot (20 points or more)")
    MEDIUM = "medium", _("raises it (5 to 20 points)")
    WEAK = "weak", _("raises it a little (1 to 5 points)")
    LOWERS = "lowers", _("lowers it (1 point or more)")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str
    contribution: float

    @property
    def level(self) -> str | None:
        if self.contribution >= 0.20:
            return Level.STRONG
        if self.contribution >= 0.05:
            return Level.MEDIUM
        if self.contribution >= 0.01:
            return Level.WEAK
        if self.contribution <= -0.01:
            return Level.LOWERS
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class Segment:
    """A piece of the text as the results page shows it: a word with its level, or a gap."""

    text: str
    level: str | None = None
    contribution: float | None = None


def is_punctuation(character: str) -> bool:
    return unicodedata.category(character).startswith("P")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the words, without the punctuation around them.

    A word is a run of non-space characters (so "f*ck", "don't" and an emoji stay whole);
    runs of punctuation alone are left out.
    """
    spans = []
    for match in WORD.finditer(text):
        start, end = match.span()
        while start < end and is_punctuation(text[start]):
            start += 1
        while end > start and is_punctuation(text[end - 1]):
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def grouped_spans(spans: list[tuple[int, int]], *, limit: int) -> list[tuple[int, int]]:
    """Join neighbouring words into at most `limit` groups, so a long text costs no more."""
    if len(spans) <= limit:
        return spans
    size = math.ceil(len(spans) / limit)
    return [
        (spans[first][0], spans[min(first + size, len(spans)) - 1][1])
        for first in range(0, len(spans), size)
    ]


def occluded(text: str, start: int, end: int) -> str:
    """Return text without text[start:end] and one space beside it."""
    if end < len(text) and text[end].isspace():
        end += 1
    elif start > 0 and text[start - 1].isspace():
        start -= 1
    return text[:start] + text[end:]


def explanations_build(
    *, analyses: Sequence[Analysis], max_spans: int | None = None
) -> list[list[Span]]:
    """Return the spans of each analysed text, scoring every occlusion in one engine call.

    max_spans is the caller's budget (TOXMON_EXPLAIN_MAX_SPANS when not given): the views give
    anonymous visitors a smaller one.
    """
    budget = settings.TOXMON_EXPLAIN_MAX_SPANS if max_spans is None else max_spans
    # Each occluded copy of a long text is read in as many windows as the text itself, so the
    # span limit is shared out over the windows: an explanation costs at most about `budget`
    # model windows, however long the text.
    spans_per_text = [
        grouped_spans(word_spans(a.text), limit=max(1, budget // a.windows)) for a in analyses
    ]
    variants = [
        occluded(analysis.text, start, end)
        for analysis, spans in zip(analyses, spans_per_text, strict=True)
        for start, end in spans
    ]
    if not variants:
        return [[] for _ in analyses]
    _engine, predictions, _seconds = texts_predict(texts=variants)
    explanations = []
    position = 0
    for analysis, spans in zip(analyses, spans_per_text, strict=True):
        base = analysis.scores[analysis.top_label]
        text_spans = []
        for start, end in spans:
            without = predictions[position].scores[analysis.top_label]
            position += 1
            contribution = round(base - without, 6)
            text_spans.append(Span(start, end, analysis.text[start:end], contribution))
        explanations.append(text_spans)
    return explanations


def segments_from_spans(text: str, spans: Sequence[Span]) -> list[Segment]:
    """Cut the whole text into words with their levels and the gaps between them."""
    segments = []
    position = 0
    for span in spans:
        if span.start > position:
            segments.append(Segment(text[position : span.start]))
        segments.append(Segment(span.text, span.level, span.contribution))
        position = span.end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments
