"""Background tasks, run by `manage.py db_worker` (django-tasks with the database backend)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from analyzer import batch_jobs, retention

# How often the retention purge runs.
RETENTION_INTERVAL = timedelta(days=1)


@task()
def batch_analyze(batch_id: str) -> None:
    """Analyze a batch, after resuming or failing any batch whose worker died."""
    batches_recover()
    batch_jobs.batch_run(batch_id=uuid.UUID(batch_id))


def batch_enqueue(*, batch_id: uuid.UUID) -> None:
    """Queue the batch for a worker."""
    result = batch_analyze.enqueue(str(batch_id))
    batch_jobs.batch_task_record(batch_id=batch_id, task_id=str(result.id))


def batches_recover(*, batch_ids: list[uuid.UUID] | None = None) -> int:
    """Give a new task to every stalled batch that may resume; return how many."""
    requeued = batch_jobs.batches_requeue_stalled(batch_ids=batch_ids)
    for batch_id in requeued:
        batch_enqueue(batch_id=batch_id)
    return len(requeued)


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
