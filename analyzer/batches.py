"""Batch analysis: read an uploaded file of texts, analyze it in the background, report.

The work runs in `manage.py db_worker` (analyzer/tasks.py calls batch_run). Results are stored
chunk by chunk, so a worker that dies loses at most the chunk it was on; a batch whose worker
has gone quiet is resumed from the first line without a result, or failed with its reason once
it has stopped TOXMON_BATCH_MAX_ATTEMPTS times. It never stays "running" forever.
"""

import csv
import io
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from analyzer import metrics, services
from analyzer.forms import validate_text
from analyzer.models import Analysis, Batch, BatchStatus, Source

logger = logging.getLogger(__name__)

# Texts per engine call and per database transaction: what a crash can cost at most.
CHUNK_SIZE = 32
# Tries of a chunk's transaction before the batch fails on a database error.
DATABASE_RETRIES = 3
# Problems listed at once when a file is refused; the rest are summed up.
MAX_REPORTED_PROBLEMS = 5


def line_of_offset(data: bytes, offset: int) -> int:
    """Return the 1-based line of the byte at offset."""
    return data.count(b"\n", 0, offset) + 1


def decoded(data: bytes) -> str:
    """Return the file as text, or refuse it naming the first line that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = line_of_offset(data, error.start)
        raise ValidationError(
            "The file is not UTF-8 text: line %(line)s has a byte (0x%(byte)02X) that is not "
            "valid UTF-8. Save the file as UTF-8 and upload it again.",
            code="encoding",
            params={"line": line, "byte": data[error.start]},
        ) from error


def txt_items(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line, text) for each non-blank line; a trailing \\r of Windows files is dropped."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def csv_items(text: str, *, column: str) -> Iterator[tuple[int, str]]:
    """Yield (line, text) from the named column of a CSV file with a header row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        if column.strip() not in names:
            raise ValidationError(
                'Line 1 (the header) has no column "%(column)s"; its columns are: %(names)s.',
                code="column",
                params={"column": column, "names": ", ".join(names) or "(none)"},
            )
        index = names.index(column.strip())
        line = reader.line_num + 1
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                line = reader.line_num + 1
                continue
            if index >= len(row):
                raise ValidationError(
                    'Line %(line)s has %(count)s columns; "%(column)s" is column %(position)s.',
                    code="columns",
                    params={
                        "line": line,
                        "count": len(row),
                        "column": column,
                        "position": index + 1,
                    },
                )
            if row[index].strip():
                yield line, row[index]
            line = reader.line_num + 1
    except csv.Error as error:
        raise ValidationError(
            "The file is not valid CSV: line %(line)s: %(error)s.",
            code="csv",
            params={"line": reader.line_num, "error": error},
        ) from error


def batch_items_from_upload(*, upload: UploadedFile, column: str = "") -> list[tuple[int, str]]:
    """Return the (line, text) pairs of an uploaded .txt or .csv file, or refuse it.

    The messages name the line: not UTF-8, not CSV, no texts, too many texts, a text too long
    or with control characters.
    """
    data = upload.read()
    text = decoded(data)
    is_csv = upload.name.lower().endswith(".csv")
    items = []
    problems = []
    limit = settings.TOXMON_BATCH_MAX_TEXTS
    for line, item in csv_items(text, column=column) if is_csv else txt_items(text):
        if len(items) == limit:
            raise ValidationError(
                "The file has more than %(limit)s texts (line %(line)s is text number "
                "%(count)s); split it into smaller files.",
                code="too_many",
                params={"limit": f"{limit:,}", "line": line, "count": f"{limit + 1:,}"},
            )
        try:
            validate_text(item)
        except ValidationError as error:
            problems.append(f"Line {line}: {' '.join(error.messages)}")
        items.append((line, item))
    if problems:
        more = len(problems) - MAX_REPORTED_PROBLEMS
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if more > 0:
            shown.append(f"… and {more} more line(s) like these.")
        raise ValidationError(shown, code="texts")
    if not items:
        raise ValidationError(
            "The file has no texts: it is empty or every line is blank.", code="empty"
        )
    return items


def batch_create(*, upload: UploadedFile, column: str = "") -> Batch:
    """Store a batch of the uploaded texts and queue it for the worker."""
    from analyzer.tasks import batch_analyze

    items = batch_items_from_upload(upload=upload, column=column)
    batch = Batch(
        filename=upload.name[:255],
        column=column if upload.name.lower().endswith(".csv") else "",
        items=items,
        total=len(items),
    )
    batch.full_clean()
    with transaction.atomic():
        batch.save()
        # Queued once the batch is committed, so the worker always finds it.
        transaction.on_commit(lambda: batch_enqueue(batch=batch, task=batch_analyze))
    return batch


def batch_enqueue(*, batch: Batch, task: object = None) -> None:
    """Queue the batch for a worker."""
    from analyzer.tasks import batch_analyze

    result = (task or batch_analyze).enqueue(str(batch.pk))
    Batch.objects.filter(pk=batch.pk).update(task_id=str(result.id))


def batch_fail(*, batch_id: object, reason: str) -> None:
    """Mark an unfinished batch failed with its reason; stored results stay."""
    Batch.objects.filter(pk=batch_id).unfinished().update(
        status=BatchStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def batch_run(*, batch_id: str) -> None:
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
    except services.PredictionFailed as error:
        batch_fail(batch_id=batch.pk, reason=f"The model failed: {error}")
        return
    except Exception as error:
        batch_fail(batch_id=batch.pk, reason=f"Unexpected error: {type(error).__name__}: {error}")
        raise
    Batch.objects.filter(pk=batch.pk, attempts=attempt).update(
        status=BatchStatus.DONE, items=[], finished_at=timezone.now(), heartbeat_at=timezone.now()
    )


def chunk_store_retrying(*, batch: Batch, attempt: int, chunk: list[tuple[int, str]]) -> bool:
    """Store a chunk, retrying when the database is busy (SQLite locks it for each writer)."""
    for retry in range(DATABASE_RETRIES):
        try:
            return chunk_store(batch=batch, attempt=attempt, chunk=chunk)
        except OperationalError:
            if retry == DATABASE_RETRIES - 1:
                raise
            logger.warning("Batch %s: database busy, retrying the chunk", batch.pk)
            time.sleep(1 + retry)
    return False


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
            Analysis.objects.bulk_create(analyses)
    except IntegrityError:
        return False
    metrics.ANALYSES_STORED.inc(len(analyses))
    return True


def batch_recover_if_stalled(*, batch: Batch) -> Batch:
    """Resume a batch whose worker went quiet, or fail it after too many attempts."""
    since = timezone.now() - timedelta(seconds=settings.TOXMON_BATCH_STALL_SECONDS)
    if not Batch.objects.filter(pk=batch.pk).stalled(since=since).exists():
        return batch
    batches_recover_stalled(pks=[batch.pk])
    batch.refresh_from_db()
    return batch


def batches_recover_stalled(*, pks: list[object] | None = None) -> int:
    """Resume or fail every running batch whose worker stored nothing for too long."""
    since = timezone.now() - timedelta(seconds=settings.TOXMON_BATCH_STALL_SECONDS)
    stalled = Batch.objects.stalled(since=since)
    if pks is not None:
        stalled = stalled.filter(pk__in=pks)
    recovered = 0
    for batch in stalled:
        if batch.attempts >= settings.TOXMON_BATCH_MAX_ATTEMPTS:
            reason = (
                f"The worker stopped {batch.attempts} times while running this batch "
                f"(nothing stored for over {settings.TOXMON_BATCH_STALL_SECONDS} s). "
                f"{batch.done} of {batch.total} texts were analyzed and kept."
            )
            changed = (
                Batch.objects.filter(pk=batch.pk, attempts=batch.attempts)
                .stalled(since=since)
                .update(status=BatchStatus.FAILED, error=reason, finished_at=timezone.now())
            )
        else:
            changed = (
                Batch.objects.filter(pk=batch.pk, attempts=batch.attempts)
                .stalled(since=since)
                .update(status=BatchStatus.QUEUED)
            )
            if changed:
                logger.warning("Batch %s: the worker went quiet; queued to resume", batch.pk)
                batch_enqueue(batch=batch)
        recovered += changed
    return recovered


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
