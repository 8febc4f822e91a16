"""How far a batch is, and what it found."""

import math
from dataclasses import dataclass

from analyzer.models import Batch


@dataclass(frozen=True)
class Progress:
    status: str
    done: int
    total: int
    percent: float
    rate_per_second: float | None
    seconds_left: int | None
    error: str


def batch_progress(*, batch: Batch) -> Progress:
    """Return how far the batch is, how fast it goes and how long it has left."""
    rate = None
    seconds_left = None
    if batch.started_at and batch.heartbeat_at and batch.done:
        elapsed = (batch.heartbeat_at - batch.started_at).total_seconds()
        if elapsed > 0:
            rate = batch.done / elapsed
            if not batch.is_finished:
                seconds_left = math.ceil((batch.total - batch.done) / rate)
    return Progress(
        status=batch.status,
        done=batch.done,
        total=batch.total,
        percent=round(batch.percent, 1),
        rate_per_second=round(rate, 2) if rate is not None else None,
        seconds_left=seconds_left,
        error=batch.error,
    )


@dataclass(frozen=True)
class Summary:
    analyzed: int
    toxic: int
    toxic_share: float
    label_counts: dict[str, int]


def batch_summary(*, batch: Batch) -> Summary:
    """Return the toxic share and how many texts each label flagged."""
    analyses = batch.analyses.all()
    analyzed = analyses.count()
    toxic = analyses.toxic().count()
    return Summary(
        analyzed=analyzed,
        toxic=toxic,
        toxic_share=toxic / analyzed if analyzed else 0.0,
        label_counts=analyses.label_counts(),
    )
