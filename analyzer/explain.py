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

This module scores; the pieces, copies and groups are planned in `analyzer.occlusion`, and what
an explanation found is held in `analyzer.highlights`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from analyzer import metrics
from analyzer.engines.microbatcher import Priority
from analyzer.highlights import Explanation
from analyzer.models import Analysis
from analyzer.occlusion import Occlusion, OcclusionPlan, pieces_split
from analyzer.services import ModelBusy, PredictionFailed, texts_predict


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


def _scored(texts: Sequence[str], *, labels: Sequence[str], budget: Budget) -> list[float]:
    """Score texts in one engine call at explanation priority; return each one's label score."""
    if not texts:
        return []
    _engine, predictions, _seconds = texts_predict(
        texts=texts, priority=Priority.EXPLANATION, wait=budget.wait_seconds
    )
    return [prediction.scores[label] for prediction, label in zip(predictions, labels, strict=True)]


def _occlusions_run(occlusions: Sequence[Occlusion], *, budget: Budget) -> None:
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
    plans = [
        OcclusionPlan(
            text=analysis.text, label=analysis.top_label, pieces=pieces_split(analysis.text)
        )
        for analysis in analyses
    ]
    # 1. Each piece alone, for the texts of more than one; a text of one piece was scored whole.
    several = [plan for plan in plans if len(plan.pieces) > 1]
    scores = iter(
        _scored(
            [plan.text[start:end] for plan in several for start, end in plan.pieces],
            labels=[plan.label for plan in several for _piece in plan.pieces],
            budget=budget,
        )
    )
    for analysis, plan in zip(analyses, plans, strict=True):
        if len(plan.pieces) > 1:
            plan.scores = [next(scores) for _piece in plan.pieces]
        else:
            plan.scores = [analysis.scores[plan.label]] * len(plan.pieces)
    # 2. The best pieces occluded, by words or, when long, by groups of words.
    for plan in plans:
        plan.occlusions_plan(
            sentences=budget.sentences, copies=budget.spans, fine_words=budget.fine_words
        )
    occlusions = [occlusion for plan in plans for _start, occlusion in plan.occlusions]
    _occlusions_run(occlusions, budget=budget)
    # 3. The words of the groups that raised the score most, one by one.
    _occlusions_run(
        [refinement for plan in plans for refinement in plan.refinements()], budget=budget
    )
    return [plan.explanation() for plan in plans]
