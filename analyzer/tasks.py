"""Background tasks, run by `manage.py db_worker` (django-tasks with the database backend)."""

import uuid

from django_tasks import task

from analyzer import batch_jobs


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
