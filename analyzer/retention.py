"""Deleting stored texts after a while: the privacy control of TOXMON_RETENTION_DAYS."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from analyzer.models import Analysis, Batch, BatchStatus

logger = logging.getLogger(__name__)

# Rows deleted per transaction: short transactions leave the database to the web workers.
CHUNK_SIZE = 500


@dataclass(frozen=True)
class Purged:
    analyses: int
    batches: int


def purgeable_batches(*, before: datetime) -> QuerySet[Batch]:
    """Batches that finished before the cut-off (so did all their analyses); never a running one."""
    return Batch.objects.filter(
        finished_at__lt=before, status__in=[BatchStatus.DONE, BatchStatus.FAILED]
    )


def purgeable_analyses(*, before: datetime) -> QuerySet[Analysis]:
    """Analyses stored before the cut-off, less those of a batch still running."""
    return Analysis.objects.filter(created_at__lt=before).filter(
        Q(batch__isnull=True) | Q(batch__status__in=[BatchStatus.DONE, BatchStatus.FAILED])
    )


def chunks_delete(queryset: QuerySet, *, chunk_size: int) -> int:
    """Delete the rows of queryset a chunk at a time; return how many rows were deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:chunk_size])
            if not ids:
                return deleted
            queryset.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


def analyses_purge(
    *, older_than: timedelta, dry_run: bool = False, chunk_size: int = CHUNK_SIZE
) -> Purged:
    """Delete analyses and finished batches older than older_than, in chunks; return the counts.

    With dry_run, only count what would be deleted.
    """
    before = timezone.now() - older_than
    analyses = purgeable_analyses(before=before)
    batches = purgeable_batches(before=before)
    if dry_run:
        return Purged(analyses=analyses.count(), batches=batches.count())
    # Analyses first, so a batch's rows go in small chunks; the batches then have none left.
    purged = Purged(
        analyses=chunks_delete(analyses, chunk_size=chunk_size),
        batches=chunks_delete(batches, chunk_size=chunk_size),
    )
    logger.info(
        "Deleted %d analyses and %d batches stored before %s",
        purged.analyses,
        purged.batches,
        before.isoformat(timespec="seconds"),
    )
    return purged
