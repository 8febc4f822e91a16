"""How well a label's threshold separates what reviewers found right from what they did not.

Pure arithmetic on (score, reviewer's answer) pairs, one per reviewed text: precision and recall
at a threshold, the precision-recall curve, a suggested threshold (the best F1, or the lowest that
meets a target precision), and how many more reviews are needed before suggesting anything.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    score: float
    # Whether the reviewer found the label right for the text.
    truth: bool


@dataclass(frozen=True)
class PrecisionRecall:
    threshold: float
    # Texts at or above the threshold, and how many of them reviewers found right.
    flagged: int
    true_positives: int
    positives: int

    @property
    def precision(self) -> float | None:
        """Return the share of flagged texts that were right; None when nothing is flagged."""
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        """Return the share of right texts that were flagged; None when none was right."""
        return self.true_positives / self.positives if self.positives else None

    @property
    def f1(self) -> float:
        precision, recall = self.precision, self.recall
        if not precision or not recall:
            return 0.0
        return 2 * precision * recall / (precision + recall)


def precision_recall_at(samples: Sequence[Sample], *, threshold: float) -> PrecisionRecall:
    """Return precision and recall when scores at or above the threshold are flagged."""
    flagged = [sample for sample in samples if sample.score >= threshold]
    return PrecisionRecall(
        threshold=threshold,
        flagged=len(flagged),
        true_positives=sum(sample.truth for sample in flagged),
        positives=sum(sample.truth for sample in samples),
    )


def pr_curve(samples: Sequence[Sample]) -> list[PrecisionRecall]:
    """Return a point per distinct positive score, from the highest threshold to the lowest."""
    positives = sum(sample.truth for sample in samples)
    ordered = sorted(samples, key=lambda sample: sample.score, reverse=True)
    points = []
    true_positives = 0
    for flagged, sample in enumerate(ordered, start=1):
        true_positives += sample.truth
        is_last_of_score = flagged == len(ordered) or ordered[flagged].score != sample.score
        # A threshold of 0 would flag every text, which no policy allows.
        if is_last_of_score and sample.score > 0:
            points.append(
                PrecisionRecall(
                    threshold=sample.score,
                    flagged=flagged,
                    true_positives=true_positives,
                    positives=positives,
                )
            )
    return points


def best_f1(samples: Sequence[Sample]) -> PrecisionRecall | None:
    """Return the threshold with the highest F1 (the higher threshold on a tie), if any has F1."""
    best = None
    for point in pr_curve(samples):
        if point.f1 > 0 and (best is None or point.f1 > best.f1):
            best = point
    return best


def lowest_meeting_precision(samples: Sequence[Sample], *, target: float) -> PrecisionRecall | None:
    """Return the lowest threshold whose precision reaches the target: the most recall it allows."""
    meeting = [
        point
        for point in pr_curve(samples)
        if point.precision is not None and point.precision >= target and point.true_positives
    ]
    return meeting[-1] if meeting else None


def reviews_needed(samples: Sequence[Sample], *, minimum: int) -> int:
    """Return how many more reviews a label needs before its figures mean something.

    At least `minimum` reviews, of which a quarter (rounded up) found the label right and a
    quarter found it wrong: a curve needs both kinds.
    """
    each = math.ceil(minimum / 4)
    positives = sum(sample.truth for sample in samples)
    negatives = len(samples) - positives
    missing_kinds = max(0, each - positives) + max(0, each - negatives)
    return max(minimum - len(samples), missing_kinds, 0)
