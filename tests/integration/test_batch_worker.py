"""A batch through the real database worker, including a worker killed mid-job."""

import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.serving import LiveApp, db_worker, served_app

STALL_SECONDS = 5
TEXTS = 10_000


def status(app: LiveApp, batch_id: str) -> dict:
    with urllib.request.urlopen(f"{app.url}/batches/{batch_id}/status", timeout=10) as response:
        return json.load(response)


def wait_for(condition, *, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def batch_of(app: LiveApp, lines: list[str]) -> str:
    """Create a batch as the upload page does and return its id."""
    upload = app.database.parent / "big.txt"
    upload.write_text("\n".join(lines), encoding="utf-8")
    code = (
        "from django.core.files.uploadedfile import SimpleUploadedFile\n"
        "from analyzer.batch_jobs import batch_create\n"
        "from analyzer.tasks import batch_enqueue\n"
        f"data = open({str(upload)!r}, 'rb').read()\n"
        "batch = batch_create(upload=SimpleUploadedFile('big.txt', data))\n"
        "batch_enqueue(batch_id=batch.pk)\n"
        "print(batch.pk)"
    )
    return app.manage("shell", "-c", code).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    workdir = tmp_path_factory.mktemp("batch")
    with served_app(
        workdir,
        TOXMON_BATCH_STALL_SECONDS=str(STALL_SECONDS),
        TOXMON_BATCH_WATCH_SECONDS="1",
    ) as live:
        yield live


def shell(app: LiveApp, code: str) -> object:
    """Run code in manage.py shell against the app's database; return what it printed as JSON."""
    return json.loads(app.manage("shell", "-c", code).stdout.strip().splitlines()[-1])


def stored(app: LiveApp, batch_id: str) -> dict:
    """Return the lines of the batch that have an analysis, in order, and its attempts."""
    code = (
        "import json\n"
        "from analyzer.models import Batch\n"
        f"batch = Batch.objects.get(pk='{batch_id}')\n"
        "lines = batch.analyses.order_by('batch_line').values_list('batch_line', flat=True)\n"
        "print(json.dumps({'lines': list(lines), 'attempts': batch.attempts}))"
    )
    return shell(app, code)


def test_a_killed_worker_loses_no_results_and_a_new_worker_finishes_the_batch(app):
    lines = [
        f"comment number {n}: thanks, you are {'an idiot' if n % 7 else 'lovely'}"
        for n in range(TEXTS)
    ]
    batch_id = batch_of(app, lines)
    assert status(app, batch_id)["status"] == "queued"

    with db_worker(app, log=app.log.with_name("db_worker-killed.log")) as worker:
        wait_for(lambda: status(app, batch_id)["done"] > 0, timeout=60, what="a first chunk")
        os.killpg(worker.pid, signal.SIGKILL)  # no clean-up code of the worker runs
        worker.wait(timeout=10)
    killed = status(app, batch_id)
    assert killed["status"] == "running" and 0 < killed["done"] < TEXTS, killed
    kept = stored(app, batch_id)["lines"]
    assert len(kept) == killed["done"], "every chunk counted as done is stored"

    # A new worker's watchdog finds the batch silent for STALL_SECONDS and queues it again.
    with db_worker(app, log=app.log.with_name("db_worker-new.log")):
        done = wait_for(
            lambda: (s := status(app, batch_id))["finished"] and s,
            timeout=STALL_SECONDS + 120,
            what="the end",
        )
    assert done["status"] == "done", done["error"]
    assert done["done"] == TEXTS and done["percent"] == 100.0
    final = stored(app, batch_id)
    assert final["lines"] == list(range(1, TEXTS + 1)), "each line exactly once"
    assert final["attempts"] == 2


def test_a_batch_whose_task_raised_before_starting_is_picked_up_again_and_finishes(app):
    batch_id = batch_of(app, [f"short comment {n}, you idiot" for n in range(50)])
    # What django-tasks-db records when a task raises, here before the batch could start.
    shell(
        app,
        "from django_tasks_db.models import DBTaskResult\n"
        "from analyzer.models import Batch\n"
        f"batch = Batch.objects.get(pk='{batch_id}')\n"
        "print(DBTaskResult.objects.filter(id=batch.task_id).update(status='FAILED', "
        "exception_class_path='django.db.utils.OperationalError', "
        "traceback='OperationalError: database is locked'))",
    )
    assert status(app, batch_id)["status"] == "queued"

    with db_worker(app):
        done = wait_for(
            lambda: (s := status(app, batch_id))["finished"] and s, timeout=120, what="the end"
        )
    assert done["status"] == "done", done["error"]
    final = stored(app, batch_id)
    assert final["lines"] == list(range(1, 51))
    assert final["attempts"] == 2, "the failed task counts as one try"
