"""Label policies: each label's review and block thresholds, read cheaply, changed with history.

Every change makes a new PolicyVersion, a snapshot of all labels' thresholds, and every analysis
records the version it was judged under. Reading the current policy costs one indexed query for
the latest version's id; its thresholds are kept in the process until another version appears,
so a change made in any worker or replica is seen by the next request of every other one.
"""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from analyzer.checkpoints import is_identity_label
from analyzer.models import LabelPolicy, PolicyVersion


@dataclass(frozen=True)
class Thresholds:
    review: float
    block: float


@dataclass(frozen=True)
class Policy:
    """The thresholds of every label under one policy version."""

    version: int | None
    thresholds: Mapping[str, Thresholds]
    # The stored version, for analyses to point to; None only before any version exists.
    row: PolicyVersion | None = field(default=None, compare=False, repr=False)

    def for_label(self, label: str) -> Thresholds:
        """Return the label's thresholds; a label the policy has not met yet gets the default."""
        return self.thresholds.get(label) or default_thresholds()


@dataclass(frozen=True)
class CachedPolicy:
    version_id: int
    created_at: datetime
    policy: Policy


# This process's copy of the current version; replaced whole, so threads need no lock to read.
_cached: CachedPolicy | None = None
_create_lock = threading.Lock()


def default_thresholds() -> Thresholds:
    """Return where a label's thresholds start: both at TOXMON_THRESHOLD, as verdicts are."""
    return Thresholds(review=settings.TOXMON_THRESHOLD, block=settings.TOXMON_THRESHOLD)


def policy_from_version(version: PolicyVersion) -> Policy:
    """Return the policy a stored version describes."""
    return Policy(
        version=version.pk,
        row=version,
        thresholds={
            label: Thresholds(review=float(bars["review"]), block=float(bars["block"]))
            for label, bars in version.thresholds.items()
        },
    )


def policy_current(*, labels: Sequence[str]) -> Policy:
    """Return the current policy, first adding any of these labels it has no thresholds for."""
    global _cached
    latest = PolicyVersion.objects.order_by("-pk").values_list("pk", "created_at").first()
    cached = _cached
    # The creation time too: a test's rolled-back version can come back with the same id.
    if (
        latest is not None
        and cached is not None
        and (cached.version_id, cached.created_at) == latest
    ):
        policy = cached.policy
    elif latest is not None:
        policy = policy_from_version(PolicyVersion.objects.get(pk=latest[0]))
        _cached = CachedPolicy(version_id=latest[0], created_at=latest[1], policy=policy)
    else:
        policy = Policy(version=None, thresholds={})
    # Identity labels (unbiased-toxic-roberta's "female" ...) never call for an action.
    missing = [
        label for label in labels if label not in policy.thresholds and not is_identity_label(label)
    ]
    if not missing:
        return policy
    # Once per new engine: its labels join the policy at the default thresholds.
    with _create_lock:
        labels_add(labels=missing)
    return policy_current(labels=[])


def labels_add(*, labels: Sequence[str]) -> PolicyVersion:
    """Give labels the current version lacks their thresholds (the default ones if new).

    Two workers meeting a new engine at once may both store a version; the two are the same.
    """
    defaults = default_thresholds()
    known = set(LabelPolicy.objects.filter(label__in=labels).values_list("label", flat=True))
    added = []
    for label in labels:
        if label in known:
            continue
        try:
            # The INSERT is the transaction's first statement, so SQLite takes its write lock
            # at once (waiting for other writers) instead of failing to upgrade a read lock.
            with transaction.atomic():
                LabelPolicy(
                    label=label, review_threshold=defaults.review, block_threshold=defaults.block
                ).save()
        except IntegrityError:
            # Another worker added it at the same moment; theirs stands.
            continue
        added.append(label)
    reason = f"Added {', '.join(added)} at the default thresholds" if added else "Labels joined"
    return version_create(reason=reason, user=None)


def version_create(*, reason: str, user: User | None) -> PolicyVersion:
    """Store a snapshot of every label's thresholds as the new current version."""
    thresholds = {
        policy.label: {"review": policy.review_threshold, "block": policy.block_threshold}
        for policy in LabelPolicy.objects.order_by("label")
    }
    return PolicyVersion.objects.create(thresholds=thresholds, reason=reason[:255], created_by=user)


def policy_change(
    *,
    label: str,
    review_threshold: float,
    block_threshold: float,
    user: User | None,
    reason: str = "",
) -> PolicyVersion:
    """Set one label's thresholds, recording who and why, and return the new policy version."""
    global _cached
    policy = LabelPolicy.objects.get(label=label)
    old = Thresholds(review=policy.review_threshold, block=policy.block_threshold)
    policy.review_threshold = review_threshold
    policy.block_threshold = block_threshold
    policy.updated_at = timezone.now()
    policy.full_clean()
    # django-simple-history stores these with the history record.
    policy._history_user = user  # type: ignore[attr-defined]
    policy._change_reason = reason[:100]  # type: ignore[attr-defined]
    summary = (
        f"{label}: review {old.review:g} → {review_threshold:g}, "
        f"block {old.block:g} → {block_threshold:g}"
    )
    with transaction.atomic():
        # The UPDATE comes first, so SQLite takes the write lock at once; the snapshot below is
        # then read inside the same write, so it holds this change and no half of another.
        policy.save()
        version = version_create(reason=f"{summary}. {reason}" if reason else summary, user=user)
    _cached = None
    return version
