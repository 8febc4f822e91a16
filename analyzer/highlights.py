"""What an explanation found: each word's contribution and level, and the page's segments.

`analyzer.explain` returns an Explanation (its spans and its pieces' scores); the results page
cuts the text into Segments by its spans and colours each by its Level.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


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
class ScoredSentence:
    """A sentence (or a run of words of a long one), scored alone; explained word by word or not."""

    start: int
    end: int
    text: str
    score: float
    explained: bool


@dataclass(frozen=True)
class Explanation:
    """What was measured for one text: its pieces' scores, then words in the explained pieces."""

    label: str
    spans: list[Span]
    # Every sentence with its score on the label, in the text's order.
    pieces: list[ScoredSentence]
    # Texts the model read for this explanation: the pieces (when more than one) and the copies.
    model_inputs: int
    # Whether a long sentence was occluded by groups of words before word by word.
    coarse: bool = False

    @property
    def explained_pieces(self) -> list[ScoredSentence]:
        return [piece for piece in self.pieces if piece.explained]


@dataclass(frozen=True)
class Segment:
    """A piece of the text as the results page shows it: a word with its level, or a gap."""

    text: str
    level: str | None = None
    contribution: float | None = None


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
