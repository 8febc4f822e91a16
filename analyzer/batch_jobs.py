"""Batch analysis jobs: store an uploaded batch, run it chunk by chunk, resume or fail it.

The work runs in `manage.py db_worker` (analyzer/tasks.py calls batch_run). Results are stored
chunk by chunk, so a worker that dies loses at most the chunk it was on. The worker's watchdog
(tasks.batches_recover) gives a new task to a batch that nothing runs any more, which resumes it
from the first line without a result, and fails it with its reason once it has been tried
TOXMON_BATCH_MAX_ATTEMPTS times. A batch never stays queued or running forever, and a failed one
keeps no text it did not analyze.
"""

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from analyzer import db_retry, services
from analyzer.batch_files import items_from_upload
from analyzer.models import Batch, BatchStatus, Source

logger = logging.getLogger(__name__)

# Texts per engine call and per database transaction: what a crash can cost at most.
CHUNK_SIZE = 32
# Characters per chunk (a cheap stand-in for tokens: about 8 model windows of 512 tokens), so a
# chunk of long texts takes about as long as one of short texts and its worker always reports
# well within TOXMON_BATCH_STALL_SECONDS. A longer text is a chunk of its own.
CHUNK_MAX_CHARS = 16_000


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


def batch_build(*, upload: UploadedFile, column: str = "", owner: User | None = None) -> Batch:
    """Return an unsaved, validated batch of the uploaded texts; refuse a bad file.

    Raises TooManyBatches when the owner (TOXMON_BATCH_MAX_UNFINISHED_PER_USER) or everyone
    together (TOXMON_BATCH_MAX_UNFINISHED) already has that many batches unfinished. Checked
    before the file is read, so a refused upload costs no parsing; whoever stores the batch
    checks again in the transaction that stores it.
    """
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
    return batch


def batch_create(*, upload: UploadedFile, column: str = "", owner: User | None = None) -> Batch:
    """Store a batch of the uploaded texts, queued for a worker; refuse a bad file or a full
    queue (TooManyBatches)."""
    batch = batch_build(upload=upload, column=column, owner=owner)
    with transaction.atomic():
        batch_slots_check(owner=owner)
        batch.save()
    return batch


def batch_task_record(*, batch_id: uuid.UUID, task_id: str) -> None:
    """Remember which queued task will run the batch."""
    Batch.objects.filter(pk=batch_id).update(task_id=task_id)


def batch_fail(*, batch_id: uuid.UUID, reason: str) -> None:
    """Mark an unfinished batch failed with its reason; results stay, unanalyzed texts go."""
    db_retry.retrying(
        lambda: (
            Batch.objects.filter(pk=batch_id)
            .unfinished()
            .update(status=BatchStatus.FAILED, error=reason, items=[], finished_at=timezone.now())
        ),
        operation="batch_fail",
        policy=db_retry.WORKER,
    )


def batch_start(*, batch_id: uuid.UUID) -> Batch | None:
    """Count a new attempt and mark the batch running; None if it is gone or finished."""
    now = timezone.now()
    with transaction.atomic():
        batch: Batch | None = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.is_finished:
            return None
        batch.attempts += 1
        batch.status = BatchStatus.RUNNING
        batch.started_at = batch.started_at or now
        batch.heartbeat_at = now
        batch.save(update_fields=["attempts", "status", "started_at", "heartbeat_at"])
    return batch


def chunks_of(
    pending: Iterable[tuple[int, str]], *, max_texts: int, max_chars: int
) -> Iterator[list[tuple[int, str]]]:
    """Cut [line, text] pairs into chunks of at most max_texts texts and max_chars characters."""
    chunk: list[tuple[int, str]] = []
    chars = 0
    for line, text in pending:
        if chunk and (len(chunk) >= max_texts or chars + len(text) > max_chars):
            yield chunk
            chunk, chars = [], 0
        chunk.append((line, text))
        chars += len(text)
    if chunk:
        yield chunk


def batch_run(*, batch_id: uuid.UUID) -> None:
    """Analyze the texts of a batch that have no result yet, storing them chunk by chunk.

    A database that stays busy ends the run with DatabaseBusy; the batch is left running for
    the watchdog to resume, since nothing is wrong with the batch itself.
    """
    batch = db_retry.retrying(
        lambda: batch_start(batch_id=batch_id), operation="batch_start", policy=db_retry.WORKER
    )
    if batch is None:
        return
    attempt = batch.attempts
    done_lines = set(batch.analyses.values_list("batch_line", flat=True))
    pending = [(line, text) for line, text in batch.items if line not in done_lines]
    logger.info(
        "Batch %s: attempt %d, %d of %d texts to go", batch.pk, attempt, len(pending), batch.total
    )
    try:
        for chunk in chunks_of(pending, max_texts=CHUNK_SIZE, max_chars=CHUNK_MAX_CHARS):
            if not chunk_store(batch=batch, attempt=attempt, chunk=chunk):
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
    except db_retry.DatabaseBusy:
        # Not the batch's fault: the task fails, and the watchdog gives the batch a new one.
        raise
    except Exception:
        logger.exception("Batch %s stopped on an unexpected error", batch.pk)
        batch_fail(
            batch_id=batch.pk,
            reason="An unexpected error stopped this batch; the texts analyzed before are kept. "
            "The server log and the task in admin say why.",
        )
        raise
    db_retry.retrying(
        lambda: Batch.objects.filter(pk=batch.pk, attempts=attempt).update(
            status=BatchStatus.DONE,
            items=[],
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        ),
        operation="batch_finish",
        policy=db_retry.WORKER,
    )


def batch_beat(*, batch_id: uuid.UUID, attempt: int) -> bool:
    """Report that this run is alive; return False if a newer run owns the batch."""
    return bool(
        db_retry.retrying(
            lambda: Batch.objects.filter(
                pk=batch_id, attempts=attempt, status=BatchStatus.RUNNING
            ).update(heartbeat_at=timezone.now()),
            operation="batch_heartbeat",
            policy=db_retry.WORKER,
        )
    )


def chunk_store(*, batch: Batch, attempt: int, chunk: list[tuple[int, str]]) -> bool:
    """Score and store one chunk; return False if a newer run owns the batch."""
    # The heartbeat moves before the model's work as well as after it.
    if not batch_beat(batch_id=batch.pk, attempt=attempt):
        return False
    analyses = services.analyses_build(texts=[text for _, text in chunk], source=Source.BATCH)
    for analysis, (line, _) in zip(analyses, chunk, strict=True):
        analysis.batch = batch
        analysis.batch_line = line

    def store() -> bool:
        for analysis in analyses:
            analysis.pk = None  # a rolled-back try may have numbered them already
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

    # The model's scores are kept across tries: only the transaction is done again.
    return db_retry.retrying(store, operation="batch_chunk", policy=db_retry.WORKER)


def batches_unfinished(*, batch_ids: list[uuid.UUID] | None = None) -> list[Batch]:
    """Return the queued and running batches, without their texts."""
    batches = Batch.objects.unfinished().defer("items").order_by("created_at")
    if batch_ids is not None:
        batches = batches.filter(pk__in=batch_ids)
    return list(batches)


def batch_trouble(*, batch: Batch, task_trouble: str | None, now: datetime) -> str | None:
    """Return why nothing runs the unfinished batch any more, or None while something does."""
    if task_trouble is not None:
        return task_trouble
    stall = settings.TOXMON_BATCH_STALL_SECONDS
    if batch.status == BatchStatus.RUNNING and (
        batch.heartbeat_at is None or batch.heartbeat_at < now - timedelta(seconds=stall)
    ):
        return f"its worker reported nothing for over {stall} s"
    return None


def batch_requeue(
    *, batch: Batch, reason: str, enqueue: Callable[[uuid.UUID], None], now: datetime
) -> bool:
    """Queue the batch again, or fail it once it has been tried too often; True if queued.

    Changes nothing when the batch moved on since it was read (its run reported, or another
    watchdog got there first). Its new task is queued in the same transaction, so a queued
    batch always has a task.
    """
    # A queued batch whose task failed or vanished was tried too, without counting it.
    tries = batch.attempts + (batch.status == BatchStatus.QUEUED)
    unchanged = Batch.objects.filter(
        pk=batch.pk,
        status=batch.status,
        attempts=batch.attempts,
        task_id=batch.task_id,
        heartbeat_at=batch.heartbeat_at,
    )
    if tries >= settings.TOXMON_BATCH_MAX_ATTEMPTS:
        error = (
            f"The batch was stopped {tries} times, the last time because {reason}. "
            f"{batch.done:,} of {batch.total:,} texts were analyzed and kept; the other "
            f"{batch.total - batch.done:,} were dropped."
        )
        failed = unchanged.update(status=BatchStatus.FAILED, error=error, items=[], finished_at=now)
        if failed:
            logger.error("Batch %s failed: %s", batch.pk, error)
        return False
    with transaction.atomic():
        if not unchanged.update(status=BatchStatus.QUEUED, attempts=tries):
            return False
        enqueue(batch.pk)
    logger.warning("Batch %s: %s; queued to resume (try %d)", batch.pk, reason, tries + 1)
    return True
