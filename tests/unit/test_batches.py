import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY

from analyzer import batch_files, batch_jobs, batch_reports, db_retry, services, tasks
from analyzer.models import Analysis, Batch, BatchStatus, Source

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def items(name, content, column=""):
    return batch_files.items_from_upload(upload=upload(name, content), column=column)


def refused(name, content, column="") -> str:
    with pytest.raises(ValidationError) as error:
        items(name, content, column)
    return " ".join(error.value.messages)


def make_batch(texts: list[str]) -> Batch:
    """Store a batch with its task queued, as an upload does."""
    batch = Batch.objects.create(
        filename="t.txt", items=[[n, t] for n, t in enumerate(texts, 1)], total=len(texts)
    )
    tasks.batch_enqueue(batch_id=batch.pk)
    return Batch.objects.get(pk=batch.pk)


def worker_run_all() -> None:
    """Run every ready task in django-tasks-db's own worker, as `manage.py db_worker` does."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="unit-test",
        excluded_queue_names=[],
    ).run()


def recovered(batch: Batch) -> Batch:
    """Return the batch after a round of the db worker's watchdog."""
    tasks.batches_recover(batch_ids=[batch.pk])
    return Batch.objects.get(pk=batch.pk)


def test_a_txt_file_gives_one_text_a_line_skipping_blank_lines():
    assert items("a.txt", "first\r\n\nsecond\n  \nthird\n") == [
        (1, "first"),
        (3, "second"),
        (5, "third"),
    ]


def test_a_utf8_bom_is_not_part_of_the_first_text():
    assert items("a.txt", "\ufeffhello\n") == [(1, "hello")]


def test_a_csv_file_gives_the_chosen_column_with_its_line():
    content = 'id,comment\n1,"hello, friend"\n2,"multi\nline"\n3,idiot\n'
    assert items("a.csv", content, "comment") == [
        (2, "hello, friend"),
        (3, "multi\nline"),
        (5, "idiot"),
    ]


def test_a_missing_csv_column_names_line_1_and_the_columns():
    message = refused("a.csv", "id,body\n1,hi\n", "comment")
    assert 'Line 1 (the header) has no column "comment"' in message
    assert "id, body" in message


def test_a_short_csv_row_names_its_line():
    assert "Line 3 has 1 columns" in refused("a.csv", "id,comment\n1,hi\n2\n", "comment")


def test_a_file_that_is_not_csv_names_the_line():
    message = refused("a.csv", 'text\nfine\n"broken"quote\n', "text")
    assert "not valid CSV: line 3" in message


def test_a_file_that_is_not_utf8_names_the_line():
    message = refused("a.txt", "fine\nalso fine\ncaf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in message and "line 3" in message and "0xE9" in message


def test_an_empty_file_is_refused():
    assert "no texts" in refused("a.txt", "")
    assert "no texts" in refused("a.txt", "\n  \n\n")
    assert "no texts" in refused("a.csv", "text\n", "text")


def test_too_many_texts_are_refused_naming_the_first_line_too_many(settings):
    settings.TOXMON_BATCH_MAX_TEXTS = 3
    message = refused("a.txt", "a\nb\n\nc\nd\ne\n")
    assert "more than 3 texts" in message and "line 5" in message


def test_a_line_over_the_length_limit_is_named(settings):
    settings.TOXMON_MAX_CHARS = 10
    message = refused("a.txt", "short\nthis line is far too long\nok\nc\x07\n")
    assert "Line 2: The text is 25 characters long" in message
    assert "Line 4: The text contains control characters (U+0007)" in message


def test_many_bad_lines_are_summed_up(settings):
    settings.TOXMON_MAX_CHARS = 1
    message = refused("a.txt", "\n".join(["toolong"] * 8))
    assert "Line 5:" in message and "Line 6:" not in message and "3 more line(s)" in message


def test_the_upload_page_has_the_file_field(member_client):
    html = member_client.get(reverse("analyzer:batch_upload")).content.decode()
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html


def test_an_upload_queues_a_task_and_returns_at_once(
    member, member_client, fake_engine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("analyzer:batch_upload"), {"file": upload("c.txt", "hello\nidiot\n")}
        )
    batch = Batch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("analyzer:batch_detail", args=[batch.pk])
    assert (batch.status, batch.total, batch.done) == (BatchStatus.QUEUED, 2, 0)
    assert batch.owner == member
    task = DBTaskResult.objects.get()
    assert task.task_path == "analyzer.tasks.batch_analyze"
    assert batch.task_id == str(task.id)
    assert fake_engine.calls == [], "the web request analyzes nothing itself"


def test_a_bad_upload_is_400_with_the_message_and_nothing_queued(member_client, fake_engine):
    response = member_client.post(reverse("analyzer:batch_upload"), {"file": upload("c.pdf", "x")})
    assert response.status_code == 400
    assert "Upload a .txt or .csv file." in response.content.decode()
    response = member_client.post(reverse("analyzer:batch_upload"), {"file": upload("c.txt", "")})
    assert response.status_code == 400
    assert Batch.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_a_csv_upload_needs_a_column(member_client):
    response = member_client.post(
        reverse("analyzer:batch_upload"), {"file": upload("c.csv", "a\nb\n"), "column": ""}
    )
    assert "Name the column" in response.content.decode()


def test_running_a_batch_stores_every_text_linked_to_it(fake_engine, monkeypatch):
    monkeypatch.setattr(batch_jobs, "CHUNK_SIZE", 2)
    batch = make_batch(["hello", "idiot", "nice", "you idiot", "bye"])
    batch_jobs.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.items, batch.attempts) == (BatchStatus.DONE, 5, [], 1)
    assert len(fake_engine.calls) == 3, "one engine call a chunk"
    stored = batch.analyses.order_by("batch_line")
    assert list(stored.values_list("batch_line", "text")) == [
        (1, "hello"),
        (2, "idiot"),
        (3, "nice"),
        (4, "you idiot"),
        (5, "bye"),
    ]
    assert set(stored.values_list("source", flat=True)) == {Source.BATCH}
    summary = batch_reports.batch_summary(batch=batch)
    assert (summary.analyzed, summary.toxic, summary.toxic_share) == (5, 2, 0.4)
    assert summary.label_counts["insult"] == 2 and summary.label_counts["threat"] == 0


def test_a_worker_crash_keeps_finished_chunks_and_the_batch_resumes(
    fake_engine, monkeypatch, settings
):
    monkeypatch.setattr(batch_jobs, "CHUNK_SIZE", 2)
    batch = make_batch(["a", "b", "c", "d", "e"])
    original = batch_jobs.chunk_store
    stored_chunks = []

    def dies_after_one_chunk(**kwargs):
        if stored_chunks:
            raise SystemExit("worker killed")  # like a SIGKILL: nothing after this runs
        stored_chunks.append(original(**kwargs))
        return True

    monkeypatch.setattr(batch_jobs, "chunk_store", dies_after_one_chunk)
    with pytest.raises(SystemExit):
        batch_jobs.batch_run(batch_id=batch.pk)
    monkeypatch.setattr(batch_jobs, "chunk_store", original)
    # A SIGKILL leaves the batch "running"; the except clause above cannot run in that case.
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, error="", heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert Analysis.objects.filter(batch=batch).count() == 2, "finished chunk kept"

    settings.TOXMON_BATCH_STALL_SECONDS = 60
    first_task = batch.task_id
    batch = recovered(batch)
    assert batch.status == BatchStatus.QUEUED
    assert batch.task_id != first_task
    assert DBTaskResult.objects.filter(id=batch.task_id).exists(), "queued again"

    fake_engine.calls.clear()
    batch_jobs.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.attempts == 2
    assert fake_engine.calls == [["c", "d"], ["e"]], "only the lines without a result"
    assert sorted(batch.analyses.values_list("batch_line", flat=True)) == [1, 2, 3, 4, 5]


def test_a_batch_that_keeps_stalling_is_failed_with_its_reason(fake_engine, settings):
    settings.TOXMON_BATCH_MAX_ATTEMPTS = 3
    batch = make_batch(["a", "b"])
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING,
        attempts=3,
        done=1,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    batch = recovered(batch)
    assert batch.status == BatchStatus.FAILED
    assert "stopped 3 times" in batch.error and "reported nothing for over" in batch.error
    assert "1 of 2 texts were analyzed and kept" in batch.error
    assert batch.items == [], "no text is kept in a dead job"


def test_a_running_batch_that_reports_in_time_is_left_alone(settings):
    batch = make_batch(["a"])
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, heartbeat_at=timezone.now()
    )
    batch = recovered(batch)
    assert batch.status == BatchStatus.RUNNING
    assert tasks.batches_recover() == 0


def test_a_failing_model_fails_the_batch_with_a_public_reason_and_logs_the_cause(
    fake_engine, caplog
):
    fake_engine.error = RuntimeError("out of memory at 0xdeadbeef")
    batch = make_batch(["a"])
    batch_jobs.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "The model failed" in batch.error
    assert "0xdeadbeef" not in batch.error, "the batch page is public: no internals"
    assert "0xdeadbeef" in caplog.text, "the cause is in the log"
    assert batch.items == []


def test_a_run_that_lost_the_batch_to_a_newer_run_stores_nothing(fake_engine):
    batch = make_batch(["a", "b"])
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, attempts=2)
    assert not batch_jobs.chunk_store(batch=batch, attempt=1, chunk=[(1, "a")])
    assert Analysis.objects.count() == 0


def test_the_status_endpoint_reports_progress_rate_and_time_left(client):
    batch = make_batch(["a"] * 10)
    now = timezone.now()
    Batch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, done=4, started_at=now - timedelta(seconds=2), heartbeat_at=now
    )
    response = client.get(reverse("analyzer:batch_status", args=[batch.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["done"], body["total"], body["percent"]) == (
        "running",
        4,
        10,
        40.0,
    )
    assert body["rate_per_second"] == 2.0 and body["seconds_left"] == 3
    assert body["finished"] is False


def test_the_job_page_shows_a_progress_bar_and_then_the_summary(client, fake_engine):
    batch = make_batch(["hello", "idiot"])
    html = client.get(reverse("analyzer:batch_detail", args=[batch.pk])).content.decode()
    assert '<progress id="batch-progress" max="2" value="0"' in html
    assert "js/batch.js" in html and "Summary" not in html
    batch_jobs.batch_run(batch_id=batch.pk)
    html = client.get(reverse("analyzer:batch_detail", args=[batch.pk])).content.decode()
    assert '<progress id="batch-progress" max="2" value="2"' in html
    assert "Summary" in html and "1 (50.0%)" in html
    assert reverse("analyzer:batch_csv", args=[batch.pk]) in html


def test_the_csv_download_has_every_text_in_file_order_and_is_spreadsheet_safe(client, fake_engine):
    batch = make_batch(["=HYPERLINK(1)", "idiot", "hello"])
    batch_jobs.batch_run(batch_id=batch.pk)
    response = client.get(reverse("analyzer:batch_csv", args=[batch.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["line"] for row in rows] == ["1", "2", "3"]
    assert rows[0]["text"] == "'=HYPERLINK(1)"
    assert rows[1]["verdict"] == "toxic" and float(rows[1]["insult"]) == pytest.approx(0.91)


def test_unknown_batches_are_404(client):
    url = reverse("analyzer:batch_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


def test_admin_links_a_batch_and_its_analyses(admin_client, fake_engine):
    batch = make_batch(["hello", "idiot"])
    batch_jobs.batch_run(batch_id=batch.pk)
    page = admin_client.get(reverse("admin:analyzer_batch_change", args=[batch.pk]))
    html = page.content.decode()
    link = reverse("admin:analyzer_analysis_changelist") + f"?batch__id__exact={batch.pk}"
    assert "2 stored analyses" in html and link in html
    listing = admin_client.get(link)
    assert listing.status_code == 200 and "idiot" in listing.content.decode()
    analysis = batch.analyses.first()
    html = admin_client.get(
        reverse("admin:analyzer_analysis_change", args=[analysis.pk])
    ).content.decode()
    assert reverse("admin:analyzer_batch_change", args=[batch.pk]) in html


def test_chunks_hold_at_most_32_texts_and_16000_characters():
    short = [(n, "x" * 10) for n in range(1, 71)]
    assert [
        len(chunk) for chunk in batch_jobs.chunks_of(short, max_texts=32, max_chars=16_000)
    ] == [
        32,
        32,
        6,
    ]
    long = [(1, "a" * 9_000), (2, "b" * 6_000), (3, "c" * 2_000), (4, "d" * 20_000), (5, "e")]
    chunks = list(batch_jobs.chunks_of(long, max_texts=32, max_chars=16_000))
    assert [[line for line, _ in chunk] for chunk in chunks] == [[1, 2], [3], [4], [5]]


def test_the_heartbeat_moves_before_each_chunk_is_scored(fake_engine, monkeypatch):
    monkeypatch.setattr(batch_jobs, "CHUNK_SIZE", 2)
    batch = make_batch(["a", "b", "c", "d", "e"])
    beats_seen_by_the_model = []
    predict = fake_engine.predict

    def predict_noting_the_heartbeat(texts, **options):
        beats_seen_by_the_model.append(Batch.objects.get(pk=batch.pk).heartbeat_at)
        return predict(texts, **options)

    monkeypatch.setattr(fake_engine, "predict", predict_noting_the_heartbeat)
    batch_jobs.batch_run(batch_id=batch.pk)
    assert len(beats_seen_by_the_model) == 3
    assert beats_seen_by_the_model == sorted(set(beats_seen_by_the_model)), "a new beat a chunk"


def test_a_batch_whose_task_raised_before_starting_is_queued_again_and_finishes(
    fake_engine, monkeypatch
):
    batch = make_batch(["hello", "idiot"])
    run = batch_jobs.batch_run

    def raises_before_starting(**kwargs):
        raise RuntimeError("worker could not start")

    monkeypatch.setattr(batch_jobs, "batch_run", raises_before_starting)
    worker_run_all()
    failed_task = DBTaskResult.objects.get(id=batch.task_id)
    assert failed_task.status == TaskResultStatus.FAILED
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.QUEUED, "the task never started"

    monkeypatch.setattr(batch_jobs, "batch_run", run)
    assert tasks.batches_recover() == 1
    batch = Batch.objects.get(pk=batch.pk)
    assert batch.task_id != str(failed_task.id) and batch.attempts == 1, "the failed task counts"
    worker_run_all()
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.attempts) == (BatchStatus.DONE, 2, 2)


def test_a_batch_whose_task_vanished_is_queued_again(fake_engine):
    batch = make_batch(["hello"])
    DBTaskResult.objects.filter(id=batch.task_id).delete()
    batch = recovered(batch)
    assert batch.status == BatchStatus.QUEUED
    assert DBTaskResult.objects.filter(id=batch.task_id, status=TaskResultStatus.READY).exists()


def test_a_queued_batch_whose_task_waits_for_a_worker_is_left_alone():
    batch = make_batch(["hello"])
    assert tasks.batches_recover() == 0
    assert recovered(batch).task_id == batch.task_id


def test_a_batch_whose_task_keeps_failing_is_failed_with_the_reason_and_keeps_no_text(
    fake_engine, settings
):
    settings.TOXMON_BATCH_MAX_ATTEMPTS = 3
    batch = make_batch(["hello", "idiot", "bye"])
    Batch.objects.filter(pk=batch.pk).update(attempts=2, done=0)
    DBTaskResult.objects.filter(id=batch.task_id).update(
        status=TaskResultStatus.FAILED,
        exception_class_path="django.db.utils.OperationalError",
        traceback="OperationalError: database is locked",
    )
    batch = recovered(batch)
    assert batch.status == BatchStatus.FAILED and batch.finished_at is not None
    assert "stopped 3 times" in batch.error
    assert "its task failed with OperationalError" in batch.error
    assert "0 of 3 texts were analyzed" in batch.error
    assert batch.items == []


def test_a_locked_database_mid_batch_is_tried_again_without_scoring_again(fake_engine, monkeypatch):
    monkeypatch.setattr(batch_jobs, "CHUNK_SIZE", 2)
    batch = make_batch(["a", "b", "c"])
    insert = services.analyses_insert
    locked_once = []

    def locked_the_first_time(**kwargs):
        if not locked_once:
            locked_once.append(True)
            raise OperationalError("database is locked")
        insert(**kwargs)

    monkeypatch.setattr(services, "analyses_insert", locked_the_first_time)
    retries = REGISTRY.get_sample_value(
        "toxmon_database_retries_total", {"operation": "batch_chunk"}
    )
    batch_jobs.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done) == (BatchStatus.DONE, 3)
    assert fake_engine.calls == [["a", "b"], ["c"]], "each chunk scored once"
    assert sorted(batch.analyses.values_list("batch_line", flat=True)) == [1, 2, 3]
    assert (
        REGISTRY.get_sample_value("toxmon_database_retries_total", {"operation": "batch_chunk"})
        == (retries or 0) + 1
    )


def test_a_database_that_stays_busy_leaves_the_batch_running_for_the_watchdog(
    fake_engine, monkeypatch
):
    monkeypatch.setattr(db_retry, "WORKER", db_retry.RetryPolicy(attempts=2, budget_seconds=5))

    def always_locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "analyses_insert", always_locked)
    batch = make_batch(["a", "b"])
    with pytest.raises(db_retry.DatabaseBusy):
        batch_jobs.batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.error) == (BatchStatus.RUNNING, 0, "")
    assert batch.items, "its texts stay for the next try"
    assert Analysis.objects.count() == 0


def test_a_batch_whose_task_no_code_can_run_is_queued_again_with_one_that_can(fake_engine):
    batch = make_batch(["hello"])
    DBTaskResult.objects.filter(id=batch.task_id).update(task_path="analyzer.tasks.renamed")
    batch = recovered(batch)
    task = DBTaskResult.objects.get(id=batch.task_id)
    assert (batch.status, task.task_path) == (BatchStatus.QUEUED, "analyzer.tasks.batch_analyze")
