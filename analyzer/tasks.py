"""Background tasks, run by `manage.py db_worker` (django-tasks with the database backend)."""

import functools
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from django_tasks_db.models import DBTaskResult

from analyzer import batch_jobs, db_retry, retention
from analyzer.models import Batch

logger = logging.getLogger(__name__)

# How often the retention purge runs.
RETENTION_INTERVAL = timedelta(days=1)


@task()
def batch_analyze(batch_id: str) -> None:
    """Analyze a batch."""
    batch_jobs.batch_run(batch_id=uuid.UUID(batch_id))


def batch_enqueue(*, batch_id: uuid.UUID) -> None:
    """Queue the batch for a worker."""
    result = batch_analyze.enqueue(str(batch_id))
    batch_jobs.batch_task_record(batch_id=batch_id, task_id=str(result.id))


def batch_submit(*, upload: UploadedFile, column: str = "", owner: User | None = None) -> Batch:
    """Store a batch of the uploaded texts and queue its task, both or neither.

    Refuses a bad file (ValidationError) or a full queue (batch_jobs.TooManyBatches). A busy
    database is tried again for a few seconds, then db_retry.DatabaseBusy is raised.
    """
    batch = batch_jobs.batch_build(upload=upload, column=column, owner=owner)

    def store() -> None:
        with transaction.atomic():
            batch_jobs.batch_slots_check(owner=owner)
            batch.save(force_insert=True)
            batch_enqueue(batch_id=batch.pk)

    db_retry.retrying(store, operation="batch_submit", policy=db_retry.WEB)
    return batch


def task_trouble(task_id: str) -> str | None:
    """Return why the task will not run its batch, or None while it waits or runs."""
    if not task_id:
        return "it had no task"
    try:
        result = batch_analyze.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch):
        return "its task vanished"
    except (ImportError, SuspiciousOperation) as error:
        # A task queued by other code (a renamed function): no worker can ever run it.
        return f"its task cannot be run ({error})"
    if result.status == TaskResultStatus.FAILED:
        raised = result.errors[-1].exception_class_path if result.errors else "an error"
        return f"its task failed with {raised.rsplit('.', 1)[-1]}"
    if result.status == TaskResultStatus.SUCCESSFUL:
        return "its task ended before the batch did"
    return None


def batches_recover(*, batch_ids: list[uuid.UUID] | None = None) -> int:
    """Queue again each unfinished batch that nothing runs, or fail it; return how many queued.

    The db worker's watchdog runs this on a schedule (analyzer/management/commands/db_worker.py).
    """
    requeued = 0
    for batch in batch_jobs.batches_unfinished(batch_ids=batch_ids):
        try:
            requeued += batch_recover(batch=batch)
        except Exception:
            # One batch that cannot be recovered must not keep the others waiting.
            logger.exception("Batch %s could not be recovered; trying again next round", batch.pk)
    return requeued


def batch_recover(*, batch: Batch) -> bool:
    """Queue the batch again, or fail it, if nothing runs it any more; True if queued."""
    now = timezone.now()
    reason = batch_jobs.batch_trouble(
        batch=batch, task_trouble=task_trouble(batch.task_id), now=now
    )
    if reason is None:
        return False
    requeue = functools.partial(
        batch_jobs.batch_requeue,
        batch=batch,
        reason=reason,
        enqueue=lambda batch_id: batch_enqueue(batch_id=batch_id),
        now=now,
    )
    return db_retry.retrying(requeue, operation="batch_recover", policy=db_retry.WORKER)


@task()
def analyses_purge_daily() -> None:
    """Delete the texts older than TOXMON_RETENTION_DAYS, then come back in a day."""
    days = settings.TOXMON_RETENTION_DAYS
    if not days:
        # Retention was switched off since this was queued: stop coming back.
        return
    retention_schedule(delay=RETENTION_INTERVAL)
    retention.analyses_purge(older_than=timedelta(days=days))


def retention_schedule(*, delay: timedelta = timedelta(0)) -> bool:
    """Queue the daily purge after delay unless one is waiting; return whether one was queued.

    Run where the worker starts, so setting TOXMON_RETENTION_DAYS is all it takes.
    """
    if not settings.TOXMON_RETENTION_DAYS:
        return False
    # Only a queued one counts: the purge that is running calls this to queue the next.
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=analyses_purge_daily.module_path
    )
    if waiting.exists():
        return False
    analyses_purge_daily.using(run_after=timezone.now() + delay).enqueue()
    return True
