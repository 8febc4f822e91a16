"""Reviews: a person's decision on analyses, kept as a trail; the latest one per analysis counts.

A "toxic" decision names the labels that were right. When the reviewer names none, the labels
that made the policy act are taken as right, or the top label when none did (the reviewer found
toxicity the policy let through).
"""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from analyzer import metrics
from analyzer.models import Analysis, Review, ReviewDecision


def labels_confirmed(*, analysis: Analysis, decision: str, labels: Sequence[str]) -> list[str]:
    """Return the labels a decision finds right for one analysis, in the model's order."""
    if decision != ReviewDecision.TOXIC:
        return []
    named = [label for label in analysis.scores if label in labels]
    return named or analysis.action_labels or [analysis.top_label]


def reviews_record(
    *,
    analyses: Sequence[Analysis],
    decision: str,
    reviewer: User | None,
    labels: Sequence[str] = (),
    note: str = "",
) -> list[Review]:
    """Store one decision on each analysis, all or none."""
    reviews = [
        Review(
            analysis=analysis,
            decision=decision,
            labels=labels_confirmed(analysis=analysis, decision=decision, labels=labels),
            note=note.strip(),
            reviewer=reviewer,
        )
        for analysis in analyses
    ]
    for review in reviews:
        # The analyses and the reviewer come from the database; checking them costs a query each.
        review.full_clean(exclude=["analysis", "reviewer"])
    with transaction.atomic():
        Review.objects.bulk_create(reviews)
        transaction.on_commit(
            lambda: metrics.reviews_recorded(decision=decision, count=len(reviews))
        )
    return reviews
