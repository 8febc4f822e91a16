"""Which words push a text's top label up: occlusion within the sentences that carry it.

1. The text is cut into pieces: its sentences (`analyzer.sentences`), a sentence of more than
   PIECE_WORDS words cut into even runs of words, so a text without punctuation is bounded too.
2. Each piece is scored alone, the pieces of all the texts in one engine call. A text of one
   piece skips this: its analysis scored it already.
3. Only the few pieces that score highest on the text's top label (`Budget.sentences`, and at
   least half the best piece's score) are explained, by occlusion: a word is removed and the
   piece alone scored again; its contribution is how much the piece's top-label score falls
   without it (negative when it rises). A piece of more than `Budget.fine_words` words is first
   occluded by groups of about sqrt(words) neighbouring words, and only the words of the groups
   that matter most are then removed one by one (coarse to fine); the other groups keep their
   group's contribution.

So an explanation costs about one reading of the text (its pieces, short and cheap to read) plus
a fixed number of short copies, however long the text. Every call is queued behind analyses
(`Priority.EXPLANATION`); when the model takes none of an explanation's copies for
`Budget.wait_seconds`, it gives up with ModelBusy instead of holding the request.
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from analyzer import metrics
from analyzer.engines.microbatcher import Priority
from analyzer.models import Analysis
from analyzer.sentences import sentences_split
from analyzer.services import ModelBusy, PredictionFailed, texts_predict

WORD = re.compile(r"\S+")
# The longest piece scored alone: a sentence of more words is cut into even runs of words.
PIECE_WORDS = 40


class Level(models.TextChoices):
    """How strongly a word moved the score, for the highlight classes and the legend."""

    STRONG = "strong", _("raises the score a lot (20 points or more)")
    MEDIUM = "medium", _("raises it (5 to 20 points)")
    WEAK = "weak", _("raises it a little (1 to 5 points)")
    LOWERS = "lowers", _("lowers it (1 point or more)")


@dataclass(frozen=True)
class Budget:
    """How much model work one text's explanation may take; the caller decides."""

    # Pieces (sentences) explained word by word.
    sentences: int = 2
    # Occluded copies of one text at most; words beyond are removed in groups.
    spans: int = 64
    # A piece of more words is occluded coarse to fine.
    fine_words: int = 8
    # Seconds an explanation may wait for the model without being served before giving up.
    wait_seconds: float | None = None


def budget_default(*, spans: int | None = None) -> Budget:
    """Return the budget the settings give an explanation, with fewer copies when spans says."""
    return Budget(
        sentences=settings.TOXMON_EXPLAIN_MAX_SENTENCES,
        spans=settings.TOXMON_EXPLAIN_MAX_SPANS if spans is None else spans,
        fine_words=settings.TOXMON_EXPLAIN_FINE_WORDS,
        wait_seconds=settings.TOXMON_EXPLAIN_WAIT_MS / 1000,
    )


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


def pieces_split(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of the text's sentences, long ones cut into word runs."""
    pieces = []
    for sentence in sentences_split(text=text):
        words = word_spans(sentence.text)
        if len(words) <= PIECE_WORDS:
            pieces.append((sentence.start, sentence.end))
            continue
        runs = math.ceil(len(words) / PIECE_WORDS)
        size = math.ceil(len(words) / runs)
        for first in range(0, len(words), size):
            last = min(first + size, len(words)) - 1
            pieces.append((sentence.start + words[first][0], sentence.start + words[last][1]))
    return pieces


# Groups of words refined word by word in a text's sentences occluded coarse to fine: the best
# one, and the next one too when it raised the score at least half as much.
REFINED_GROUPS = 2


@dataclass
class _Occlusion:
    """Copies of one piece, each without one span (a word or a group) of it."""

    label: str
    text: str
    base: float
    # Offsets in the piece's text.
    spans: list[tuple[int, int]]
    coarse: bool = False
    scores: list[float] = field(default_factory=list)
    # Group index -> that group's words, each occluded alone.
    refined: dict[int, "_Occlusion"] = field(default_factory=dict)

    @property
    def copies(self) -> list[str]:
        return [occluded(self.text, start, end) for start, end in self.spans]

    @property
    def contributions(self) -> list[float]:
        return [round(self.base - score, 6) for score in self.scores]

    def refine(self, index: int) -> "_Occlusion | None":
        """Return a word-by-word occlusion of group `index`, kept for parts(); None for a word."""
        group_start, group_end = self.spans[index]
        inside = [(s, e) for s, e in word_spans(self.text) if group_start <= s and e <= group_end]
        if len(inside) < 2:
            return None
        self.refined[index] = _Occlusion(
            label=self.label, text=self.text, base=self.base, spans=inside
        )
        return self.refined[index]

    def parts(self) -> list[tuple[int, int, float]]:
        """Return (start, end, contribution) of each word or group, refined groups as words."""
        parts = []
        for index, ((start, end), contribution) in enumerate(
            zip(self.spans, self.contributions, strict=True)
        ):
            refinement = self.refined.get(index)
            if refinement is None:
                parts.append((start, end, contribution))
            else:
                parts.extend(refinement.parts())
        return parts

    @property
    def inputs(self) -> int:
        return len(self.spans) + sum(len(refined.spans) for refined in self.refined.values())


@dataclass
class _Plan:
    """One text's explanation as it is worked out."""

    analysis: Analysis
    pieces: list[tuple[int, int]]
    # The top label's score of each piece.
    scores: list[float] = field(default_factory=list)
    # (start of the piece in the text, its occlusion) for each explained piece.
    occlusions: list[tuple[int, _Occlusion]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.analysis.top_label

    def occlusions_plan(self, *, budget: Budget) -> None:
        """Occlude the highest-scoring pieces: word by word when short, by groups when long."""
        ranked = sorted(range(len(self.pieces)), key=lambda index: -self.scores[index])
        # A piece that scores less than half the best one does not carry the label.
        best = self.scores[ranked[0]] if ranked else 0.0
        chosen = sorted(
            index for index in ranked[: budget.sentences] if self.scores[index] >= best / 2
        )
        per_piece = max(1, budget.spans // max(1, len(chosen)))
        for index in chosen:
            start, end = self.pieces[index]
            text = self.analysis.text[start:end]
            words = word_spans(text)
            coarse = len(words) > budget.fine_words
            limit = min(per_piece, math.ceil(math.sqrt(len(words)))) if coarse else per_piece
            occlusion = _Occlusion(
                label=self.label,
                text=text,
                base=self.scores[index],
                spans=grouped_spans(words, limit=limit),
                coarse=coarse,
            )
            self.occlusions.append((start, occlusion))

    def refinements(self) -> list[_Occlusion]:
        """Return word-by-word occlusions of the groups that raised the score most in this text.

        The best group always; the next best too when it raised the score at least half as much.
        """
        groups = [
            (contribution, occlusion, index)
            for _start, occlusion in self.occlusions
            if occlusion.coarse
            for index, contribution in enumerate(occlusion.contributions)
        ]
        groups.sort(key=lambda group: group[0], reverse=True)
        if not groups:
            return []
        best = groups[0][0]
        chosen = [groups[0]] + [
            group for group in groups[1:REFINED_GROUPS] if best > 0 and group[0] >= best / 2
        ]
        refinements = [occlusion.refine(index) for _contribution, occlusion, index in chosen]
        return [refinement for refinement in refinements if refinement is not None]

    def explanation(self) -> Explanation:
        text = self.analysis.text
        spans = [
            Span(
                start + part_start,
                start + part_end,
                text[start + part_start : start + part_end],
                contribution,
            )
            for start, occlusion in self.occlusions
            for part_start, part_end, contribution in occlusion.parts()
        ]
        explained = {start for start, _occlusion in self.occlusions}
        return Explanation(
            label=self.label,
            spans=spans,
            pieces=[
                ScoredSentence(
                    start=start,
                    end=end,
                    text=text[start:end],
                    score=score,
                    explained=start in explained,
                )
                for (start, end), score in zip(self.pieces, self.scores, strict=True)
            ],
            model_inputs=(len(self.pieces) if len(self.pieces) > 1 else 0)
            + sum(occlusion.inputs for _start, occlusion in self.occlusions),
            coarse=any(occlusion.coarse for _start, occlusion in self.occlusions),
        )


def _scored(texts: Sequence[str], *, labels: Sequence[str], budget: Budget) -> list[float]:
    """Score texts in one engine call at explanation priority; return each one's label score."""
    if not texts:
        return []
    _engine, predictions, _seconds = texts_predict(
        texts=texts, priority=Priority.EXPLANATION, wait=budget.wait_seconds
    )
    return [prediction.scores[label] for prediction, label in zip(predictions, labels, strict=True)]


def _occlusions_run(occlusions: Sequence[_Occlusion], *, budget: Budget) -> None:
    """Score every copy of every occlusion in one engine call; keep the scores on each."""
    copies = [(occlusion.label, copy) for occlusion in occlusions for copy in occlusion.copies]
    scores = iter(
        _scored(
            [copy for _label, copy in copies],
            labels=[label for label, _copy in copies],
            budget=budget,
        )
    )
    for occlusion in occlusions:
        occlusion.scores = [next(scores) for _span in occlusion.spans]


def explanations_build(
    *, analyses: Sequence[Analysis], budget: Budget | None = None
) -> list[Explanation]:
    """Return each analysed text's explanation, in at most three batched engine calls.

    The caller sets the budget (how many sentences and copies, how long to wait for the model).
    Raises ModelBusy when the model, busy with analyses, did not take the work in time, and
    PredictionFailed when the engine failed.
    """
    budget = budget or budget_default()
    try:
        explanations = _explanations_build(analyses=analyses, budget=budget)
    except ModelBusy:
        metrics.explanation_finished(outcome="busy")
        raise
    except PredictionFailed:
        metrics.explanation_finished(outcome="failed")
        raise
    metrics.explanation_finished(outcome="done")
    return explanations


def _explanations_build(*, analyses: Sequence[Analysis], budget: Budget) -> list[Explanation]:
    plans = [_Plan(analysis=analysis, pieces=pieces_split(analysis.text)) for analysis in analyses]
    # 1. Each piece alone, for the texts of more than one; a text of one piece was scored whole.
    several = [plan for plan in plans if len(plan.pieces) > 1]
    scores = iter(
        _scored(
            [plan.analysis.text[start:end] for plan in several for start, end in plan.pieces],
            labels=[plan.label for plan in several for _piece in plan.pieces],
            budget=budget,
        )
    )
    for plan in plans:
        if len(plan.pieces) > 1:
            plan.scores = [next(scores) for _piece in plan.pieces]
        else:
            plan.scores = [plan.analysis.scores[plan.label]] * len(plan.pieces)
    # 2. The best pieces occluded, by words or, when long, by groups of words.
    for plan in plans:
        plan.occlusions_plan(budget=budget)
    occlusions = [occlusion for plan in plans for _start, occlusion in plan.occlusions]
    _occlusions_run(occlusions, budget=budget)
    # 3. The words of the groups that raised the score most, one by one.
    _occlusions_run(
        [refinement for plan in plans for refinement in plan.refinements()], budget=budget
    )
    return [plan.explanation() for plan in plans]


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
