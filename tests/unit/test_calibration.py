"""Precision, recall and suggested thresholds on reviews whose answers are known."""

import pytest

from analyzer.calibration import (
    Sample,
    best_f1,
    lowest_meeting_precision,
    pr_curve,
    precision_recall_at,
    reviews_needed,
)

# Ten reviewed texts: scores and whether the reviewer found the label right. Above 0.8 all right,
# 0.6 and 0.5 one right one wrong, below wrong but one right at 0.2 (a miss at any sane bar).
REVIEWS = [
    Sample(0.95, True),
    Sample(0.90, True),
    Sample(0.85, True),
    Sample(0.60, True),
    Sample(0.55, False),
    Sample(0.50, False),
    Sample(0.40, False),
    Sample(0.30, False),
    Sample(0.20, True),
    Sample(0.10, False),
]


def test_precision_and_recall_at_a_threshold_count_the_flagged_and_the_right():
    at_half = precision_recall_at(REVIEWS, threshold=0.5)
    # Flagged: 0.95 0.90 0.85 0.60 0.55 0.50; right among them 4 of the 5 right in all.
    assert (at_half.flagged, at_half.true_positives, at_half.positives) == (6, 4, 5)
    assert at_half.precision == pytest.approx(4 / 6)
    assert at_half.recall == pytest.approx(4 / 5)
    assert at_half.f1 == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5))


def test_a_score_equal_to_the_threshold_is_flagged():
    assert precision_recall_at(REVIEWS, threshold=0.85).flagged == 3


def test_nothing_flagged_has_no_precision_and_nothing_right_has_no_recall():
    assert precision_recall_at(REVIEWS, threshold=0.99).precision is None
    assert precision_recall_at([Sample(0.9, False)], threshold=0.5).recall is None
    assert precision_recall_at([Sample(0.9, False)], threshold=0.5).f1 == 0.0


def test_the_curve_has_a_point_per_distinct_score_from_high_to_low():
    curve = pr_curve([*REVIEWS, Sample(0.60, False)])
    thresholds = [point.threshold for point in curve]
    assert thresholds == sorted(set(thresholds), reverse=True)
    assert len(curve) == 10
    tied = next(point for point in curve if point.threshold == 0.60)
    assert (tied.flagged, tied.true_positives) == (5, 4)
    assert curve[-1].recall == 1.0 and curve[-1].flagged == 11


def test_the_best_f1_threshold_is_the_one_with_the_highest_f1():
    suggestion = best_f1(REVIEWS)
    # At 0.60: precision 4/4, recall 4/5, F1 0.889; no other threshold comes close.
    assert suggestion is not None
    assert suggestion.threshold == 0.60
    assert suggestion.f1 == pytest.approx(8 / 9)


def test_a_tie_in_f1_goes_to_the_higher_threshold():
    # F1 = 2 TP / (flagged + right): at 0.8 it is 4 / 6, at 0.2 it is 8 / 12, the same.
    samples = [Sample(0.9, True), Sample(0.8, True)]
    samples += [Sample(score, False) for score in (0.7, 0.6, 0.5, 0.4)]
    samples += [Sample(0.3, True), Sample(0.2, True)]
    tie = {round(point.f1, 9) for point in pr_curve(samples) if point.threshold in (0.8, 0.2)}
    assert len(tie) == 1
    suggestion = best_f1(samples)
    assert suggestion is not None and suggestion.threshold == 0.8


def test_the_lowest_threshold_meeting_a_target_precision_gives_the_most_recall():
    at_least_80 = lowest_meeting_precision(REVIEWS, target=0.8)
    assert at_least_80 is not None
    # 0.55: 4/5 = 0.8 exactly, recall 4/5; 0.50 would give 4/6.
    assert at_least_80.threshold == 0.55
    assert at_least_80.precision == pytest.approx(0.8)
    perfect = lowest_meeting_precision(REVIEWS, target=1.0)
    assert perfect is not None and perfect.threshold == 0.60


def test_no_threshold_meets_an_impossible_target():
    assert lowest_meeting_precision([Sample(0.9, False), Sample(0.8, False)], target=0.5) is None


def test_no_suggestion_without_any_right_answer():
    assert best_f1([Sample(0.9, False), Sample(0.1, False)]) is None


def test_a_zero_score_never_becomes_a_threshold():
    assert all(point.threshold > 0 for point in pr_curve([Sample(0.0, True), Sample(0.5, True)]))


@pytest.mark.parametrize(
    ("right", "wrong", "needed"),
    [
        (0, 0, 20),  # nothing yet
        (15, 0, 5),  # enough in all but none wrong: 5 wrong ones needed
        (10, 5, 5),  # both kinds, 5 short of 20
        (3, 30, 2),  # plenty, but 2 short of 5 right ones
        (10, 10, 0),
    ],
)
def test_reviews_needed_counts_the_total_and_both_kinds(right, wrong, needed):
    samples = [Sample(0.9, True)] * right + [Sample(0.1, False)] * wrong
    assert reviews_needed(samples, minimum=20) == needed
