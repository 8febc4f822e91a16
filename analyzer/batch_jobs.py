"""Batch analysis jobs: store an uploaded batch, run it chunk by chunk, resume or fail it.

The work runs in `manage.py db_worker` (analyzer/tasks.py calls batch_run). Results are stored
chunk by chunk, so a worker that dies loses at most the chunk it was on; a batch whose worker
has gone quiet is resumed from the first line without a result, or failed with its reason once
it has stopped TOXMON_BATCH_MAX_ATTEMPTS times. It never stays "running" forever.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from analyzer import services
from analyzer.batch_files import items_from_upload
from analyzer.models import Batch, BatchStatus, Source

logger = logging.getLogger(__name__)

# Texts per engine call and per database transaction: what a crash can cost at most.
CHUNK_SIZE = 32


class TooManyBatches(Exception):
    """The uploader, or everyone together, has as many unfinished batches as allowed."""

    def __init__(self, message: str, *, everyone: bool) -> None:
        super().__init__(message)
        self.message = message
        self.everyone = everyone
        # Batches take minutes; a client refused for everyone's queue should not retry sooner.
        self.retry_after = 60 if everyone else None


def batch_slots_check(*, owner: User | None) -> None:
    """Raise TooManyBatches when the owner, or the service, has no room for another batch."""
    unfinished = Batch.objects.unfinished()
    limit = settings.TOXMON_BATCH_MAX_UNFINISHED_PER_USER
    if owner is not None and unfinished.filter(owner=owner).count() >= limit:
        raise TooManyBatches(
            f"You have {limit} batches queued or running, as many as one person may; "
            "upload this file when one of them has finished.",
            everyone=False,
        )
    if unfinished.count() >= settings.TOXMON_BATCH_MAX_UNFINISHED:
        raise TooManyBatches(
            "The service has as many batches waiting as it takes; "
            "upload this file again in a few minutes.",
            everyone=True,
        )


def batch_create(*, upload: UploadedFile, column: str = "", owner: User | None = None) -> Batch:
    """Store a batch of the uploaded texts, queued for a worker; refuse a bad file.

    Raises TooManyBatches when the owner (TOXMON_BATCH_MAX_UNFINISHED_PER_USER) or everyone
    together (TOXMON_BATCH_MAX_UNFINISHED) already has that many batches unfinished.
    """
    # Checked before the file is read, so a refused upload costs no parsing, and again when
    # the batch is stored, in the same transaction.
    batch_slots_check(owner=owner)
    items = items_from_upload(upload=upload, column=column)
    name = upload.name or ""
    batch = Batch(
        filename=name[:255],
        column=column if name.lower().endswith(".csv") else "",
        items=items,
        total=len(items),
        owner=owner,
    )
    batch.full_clean()
    with transaction.atomic():
        batch_slots_check(owner=owner)
        batch.save()
    return batch


def batch_task_record(*, batch_id: uuid.UUID, task_id: str) -> None:
    """Remember which queued task will run the batch."""
    Batch.objects.filter(pk=batch_id).update(task_id=task_id)


def batch_fail(*, batch_id: uuid.UUID, reason: str) -> None:
    """Mark an unfinished batch failed with its reason; stored results stay."""
    Batch.objects.filter(pk=batch_id).unfinished().update(
        status=BatchStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def batch_run(*, batch_id: uuid.UUID) -> None:
    """Analyze the texts of a batch that have no result yet, storing them chunk by chunk."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.is_finished:
            return
        batch.attempts += 1
        batch.status = BatchStatus.RUNNING
        batch.started_at = batch.started_at or now
        batch.heartbeat_at = now
        batch.save(update_fields=["attempts", "status", "started_at", "heartbeat_at"])
    attempt = batch.attempts
    done_lines = set(batch.analyses.values_list("batch_line", flat=True))
    pending = [(line, text) for line, text in batch.items if line not in done_lines]
    logger.info(
        "Batch %s: attempt %d, %d of %d texts to go", batch.pk, attempt, len(pending), batch.total
    )
    try:
        for first in range(0, len(pending), CHUNK_SIZE):
            if not chunk_store(
                batch=batch, attempt=attempt, chunk=pending[first : first + CHUNK_SIZE]
            ):
                logger.warning("Batch %s was taken over by another run; stopping", batch.pk)
                return
    except services.PredictionFailed:
        # The batch page is public: the cause is in the log, where texts_predict wrote it.
        batch_fail(
            batch_id=batch.pk,
            reason="The model failed while analyzing this batch; the texts analyzed before "
            "are kept. The server log says why.",
        )
        return
    except Exception:
        logger.exception("Batch %s stopped on an unexpected error", batch.pk)
        batch_fail(
            batch_id=batch.pk,
            reason="An unexpected error stopped this batch; the texts analyzed before are kept. "
            "The server log and the task in admin say why.",
        )
        raise
    Batch.objects.filter(pk=batch.pk, attempts=attempt).update(
        status=BatchStatus.DONE, items=[], finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def chunk_store(*, batch: Batch, attempt: int, chunk: list[tuple[int, str]]) -> bool:
    """Score and store one chunk; return False if a newer run owns the batch."""
    analyses = services.analyses_build(texts=[text for _, text in chunk], source=Source.BATCH)
    for analysis, (line, _) in zip(analyses, chunk, strict=True):
        analysis.batch = batch
        analysis.batch_line = line
    try:
        with transaction.atomic():
            owned = Batch.objects.filter(
                pk=batch.pk, attempts=attempt, status=BatchStatus.RUNNING
            ).update(done=F("done") + len(analyses), heartbeat_at=timezone.now())
            if not owned:
                return False
            services.analyses_insert(analyses=analyses)
    except IntegrityError:
        return False
    return True


def batches_requeue_stalled(*, batch_ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Fail, or queue again, every running batch whose worker stored nothing for too long.

    Returns the batches queued again, for the caller to give each a task.
    """
    since = timezone.now() - timedelta(seconds=settings.TOXMON_BATCH_STALL_SECONDS)
    stalled = Batch.objects.stalled(since=since)
    if batch_ids is not None:
        stalled = stalled.filter(pk__in=batch_ids)
    requeued = []
    for batch in stalled:
        still_stalled = Batch.objects.filter(pk=batch.pk, attempts=batch.attempts).stalled(
            since=since
        )
        if batch.attempts >= settings.TOXMON_BATCH_MAX_ATTEMPTS:
            reason = (
                f"The worker stopped {batch.attempts} times while running this batch "
                f"(nothing stored for over {settings.TOXMON_BATCH_STALL_SECONDS} s). "
                f"{batch.done} of {batch.total} texts were analyzed and kept."
            )
            still_stalled.update(
                status=BatchStatus.FAILED, error=reason, finished_at=timezone.now()
            )
        elif still_stalled.update(status=BatchStatus.QUEUED):
            logger.warning("Batch %s: the worker went quiet; queued to resume", batch.pk)
            requeued.append(batch.pk)
    return requeued
