"""The calibration report: per label, how the current thresholds fare on reviewed analyses.

Only analyses of the model being served count (another model's scores mean other things), and
of each analysis only its latest review. A label's answer comes from the review: right when the
reviewer found the text toxic and kept the label among the right ones.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from analyzer.calibration import (
    PrecisionRecall,
    Sample,
    best_f1,
    lowest_meeting_precision,
    pr_curve,
    precision_recall_at,
    reviews_needed,
)
from analyzer.calibration_charts import Marker, data_uri, pr_curve_svg
from analyzer.models import Review, ReviewDecision
from analyzer.policies import Policy, Thresholds

# Drawing a chart costs a few hundred milliseconds of CPU; the same data draws the same chart.
CHART_CACHE_SECONDS = 3600
REVIEW_COLOR = "#c98a00"
BLOCK_COLOR = "#b3261e"
SUGGESTION_COLOR = "#1e6b3a"


@dataclass(frozen=True)
class LabelCalibration:
    label: str
    thresholds: Thresholds
    reviews: int
    right: int
    at_review: PrecisionRecall
    at_block: PrecisionRecall
    needed: int
    suggestion: PrecisionRecall | None
    chart: str

    @property
    def wrong(self) -> int:
        return self.reviews - self.right

    @property
    def points(self) -> list[tuple[str, PrecisionRecall]]:
        """Return the thresholds the report compares: current ones, then the suggestion."""
        named = [("review", self.at_review), ("block", self.at_block)]
        return named + ([("suggested", self.suggestion)] if self.suggestion else [])

    @property
    def suggestion_is_new(self) -> bool:
        """Return whether the suggestion differs from both current thresholds."""
        return self.suggestion is not None and self.suggestion.threshold not in {
            self.thresholds.review,
            self.thresholds.block,
        }


@dataclass(frozen=True)
class CalibrationReport:
    model: str
    policy_version: int | None
    reviewed: int
    minimum: int
    target_precision: float | None
    labels: list[LabelCalibration]


def samples_by_label(*, model: str, labels: Sequence[str]) -> tuple[dict[str, list[Sample]], int]:
    """Return each label's (score, answer) pairs from the latest review of each analysis."""
    latest: dict[int, tuple[str, list[str], dict[str, float]]] = {}
    rows = (
        Review.objects.filter(analysis__model_name=model)
        .order_by("analysis_id", "created_at", "id")
        .values_list("analysis_id", "decision", "labels", "analysis__scores")
    )
    for analysis_id, decision, right_labels, scores in rows.iterator():
        latest[analysis_id] = (decision, right_labels, scores)
    samples: dict[str, list[Sample]] = {label: [] for label in labels}
    for decision, right_labels, scores in latest.values():
        for label in labels:
            if label in scores:
                truth = decision == ReviewDecision.TOXIC and label in right_labels
                samples[label].append(Sample(score=float(scores[label]), truth=truth))
    return samples, len(latest)


def chart_cached(
    *,
    label: str,
    samples: Sequence[Sample],
    markers: Sequence[Marker],
    curve: list[PrecisionRecall],
) -> str:
    """Return the chart's data: URI, drawn again only when its data changed."""
    key_source = repr((label, sorted((s.score, s.truth) for s in samples), markers))
    key = "calibration-chart:" + hashlib.sha256(key_source.encode()).hexdigest()
    uri = cache.get(key)
    if uri is None:
        uri = data_uri(pr_curve_svg(label=label, curve=curve, markers=markers))
        cache.set(key, uri, CHART_CACHE_SECONDS)
    return str(uri)


def label_calibration(
    *, label: str, samples: Sequence[Sample], thresholds: Thresholds, target: float | None
) -> LabelCalibration:
    """Return the figures of one label, with a suggestion only when it has enough reviews."""
    needed = reviews_needed(samples, minimum=settings.TOXMON_CALIBRATION_MIN_REVIEWS)
    at_review = precision_recall_at(samples, threshold=thresholds.review)
    at_block = precision_recall_at(samples, threshold=thresholds.block)
    suggestion = None
    chart = ""
    if not needed:
        suggestion = (
            lowest_meeting_precision(samples, target=target)
            if target is not None
            else best_f1(samples)
        )
        markers = [
            Marker(name="review", point=at_review, color=REVIEW_COLOR),
            Marker(name="block", point=at_block, color=BLOCK_COLOR),
        ]
        if suggestion is not None:
            markers.append(Marker(name="suggested", point=suggestion, color=SUGGESTION_COLOR))
        chart = chart_cached(label=label, samples=samples, markers=markers, curve=pr_curve(samples))
    return LabelCalibration(
        label=label,
        thresholds=thresholds,
        reviews=len(samples),
        right=sum(sample.truth for sample in samples),
        at_review=at_review,
        at_block=at_block,
        needed=needed,
        suggestion=suggestion,
        chart=chart,
    )


def calibration_report(
    *, model: str, labels: Sequence[str], policy: Policy, target_precision: float | None = None
) -> CalibrationReport:
    """Return the calibration of every label of the model under the current policy."""
    samples, reviewed = samples_by_label(model=model, labels=labels)
    return CalibrationReport(
        model=model,
        policy_version=policy.version,
        reviewed=reviewed,
        minimum=settings.TOXMON_CALIBRATION_MIN_REVIEWS,
        target_precision=target_precision,
        labels=[
            label_calibration(
                label=label,
                samples=samples[label],
                thresholds=policy.for_label(label),
                target=target_precision,
            )
            for label in labels
        ],
    )
