import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analyzer import batch_files, batch_jobs, batch_reports, tasks
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
    return Batch.objects.create(
        filename="t.txt", items=[[n, t] for n, t in enumerate(texts, 1)], total=len(texts)
    )


def recovered(batch: Batch) -> Batch:
    """Return the batch after the recovery its page runs when polled."""
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
    batch = recovered(batch)
    assert batch.status == BatchStatus.QUEUED
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
    assert "stopped 3 times" in batch.error and "1 of 2 texts" in batch.error


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
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
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
