"""Deleting stored texts after TOXMON_RETENTION_DAYS: the purge and its daily task."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from analyzer import retention, tasks
from analyzer.models import Analysis, Batch, BatchStatus

pytestmark = pytest.mark.django_db


def stored(days_ago: float, *, batch: Batch | None = None, line: int | None = None) -> Analysis:
    return Analysis.objects.create(
        text=f"stored {days_ago} days ago",
        scores={"toxic": 0.1},
        verdict="not_toxic",
        top_label="toxic",
        max_score=0.1,
        threshold=0.5,
        engine="fake",
        model_name="fake",
        latency_ms=1,
        batch=batch,
        batch_line=line,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def batch_of(status: str, *, days_ago: float) -> Batch:
    when = timezone.now() - timedelta(days=days_ago)
    finished = status in {BatchStatus.DONE, BatchStatus.FAILED}
    return Batch.objects.create(
        filename="b.txt",
        total=1,
        status=status,
        created_at=when,
        finished_at=when if finished else None,
    )


def test_only_analyses_older_than_the_cut_off_are_deleted():
    keep = [stored(0), stored(29.9)]
    stored(30.1)
    stored(365)
    purged = retention.analyses_purge(older_than=timedelta(days=30))
    assert purged.analyses == 2
    assert set(Analysis.objects.values_list("pk", flat=True)) == {a.pk for a in keep}


def test_a_dry_run_counts_and_deletes_nothing():
    stored(40)
    stored(1)
    assert retention.analyses_purge(older_than=timedelta(days=30), dry_run=True).analyses == 1
    assert Analysis.objects.count() == 2


def test_finished_batches_go_with_their_analyses_and_running_ones_stay_whole():
    done = batch_of(BatchStatus.DONE, days_ago=40)
    stored(40, batch=done, line=1)
    running = batch_of(BatchStatus.RUNNING, days_ago=40)
    stored(40, batch=running, line=1)
    recent = batch_of(BatchStatus.DONE, days_ago=2)

    purged = retention.analyses_purge(older_than=timedelta(days=30), chunk_size=1)

    assert (purged.analyses, purged.batches) == (1, 1)
    assert set(Batch.objects.values_list("pk", flat=True)) == {running.pk, recent.pk}
    assert Analysis.objects.get().batch == running


def test_the_purge_works_in_chunks():
    for _ in range(5):
        stored(50)
    assert (
        retention.chunks_delete(retention.purgeable_analyses(before=timezone.now()), chunk_size=2)
        == 5
    )
    assert Analysis.objects.count() == 0


def test_the_command_reports_what_it_deleted(capsys):
    stored(10)
    stored(1)
    call_command("purge_analyses", "--older-than", "7", "--dry-run")
    assert "Would delete 1 analyses" in capsys.readouterr().out
    call_command("purge_analyses", "--older-than", "7")
    assert "Deleted 1 analyses" in capsys.readouterr().out
    assert Analysis.objects.count() == 1


def queued_purges() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path="analyzer.tasks.analyses_purge_daily"
        )
    )


def test_without_retention_days_nothing_is_scheduled(settings):
    settings.TOXMON_RETENTION_DAYS = None
    assert tasks.retention_schedule() is False
    assert queued_purges() == []


def test_retention_days_schedule_one_daily_purge_that_queues_the_next(settings):
    settings.TOXMON_RETENTION_DAYS = 30
    assert tasks.retention_schedule() is True
    assert tasks.retention_schedule() is False, "one is queued already"
    (first,) = queued_purges()
    first.delete()
    stored(31)
    stored(3)

    tasks.analyses_purge_daily.call()

    assert Analysis.objects.count() == 1
    (following,) = queued_purges()
    delay = following.run_after - timezone.now()
    assert timedelta(hours=23) < delay <= timedelta(days=1)


def test_switching_retention_off_stops_the_daily_purge(settings):
    settings.TOXMON_RETENTION_DAYS = None
    stored(400)
    tasks.analyses_purge_daily.call()
    assert Analysis.objects.count() == 1 and queued_purges() == []
