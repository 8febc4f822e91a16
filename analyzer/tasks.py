"""Background tasks, run by `manage.py db_worker` (django-tasks with the database backend)."""

from django_tasks import task

from analyzer import batches


@task()
def batch_analyze(batch_id: str) -> None:
    """Analyze a batch, after resuming or failing any batch whose worker died."""
    batches.batches_recover_stalled()
    batches.batch_run(batch_id=batch_id)
