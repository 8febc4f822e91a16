"""A moderation team at once: form posters in many threads while a batch runs, over HTTP.

Used by the live concurrency tests on SQLite and on PostgreSQL. The app must be served with
its db worker running (tests/serving.py).
"""

import contextlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests

from tests.serving import LiveApp

# These tests are about many writers on one database, not about per-client limits
# (test_limits_live.py): their 16 users all come from 127.0.0.1, so the app they run against
# raises its per-address limits and opens batch uploads, explicitly, by setting.
ONE_ADDRESS_MANY_USERS = {
    "TOXMON_FORM_RATE_LIMIT": "100000/minute",
    "TOXMON_BATCH_RATE_LIMIT": "1000/hour",
    "TOXMON_BATCH_PUBLIC": "1",
}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# Eight threads, each on its own database connection, add 25 each to one counter of the cache
# and count the increments that returned; one that timed out on a busy database raised, and is
# not counted. Prints the counter and the increments made.
CONCURRENT_INCREMENTS = """
import threading
from django.core.cache import cache
from django.db import DatabaseError, connection
cache.set("burst", 0, 60)
made = []
def add():
    for _ in range(25):
        try:
            cache.incr("burst")
            made.append(1)
        except DatabaseError:
            pass
    connection.close()
threads = [threading.Thread(target=add) for _ in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(cache.get("burst"), len(made))
"""


def cache_increments_concurrently(app: LiveApp) -> tuple[str, str]:
    """Run CONCURRENT_INCREMENTS in the app's shell; return the counter and the increments made."""
    counted, made = app.manage("shell", "-c", CONCURRENT_INCREMENTS).stdout.split()[-2:]
    return counted, made


@dataclass
class FormLoad:
    """What the form posters saw: every status, the texts answered 200, client errors."""

    statuses: Counter[int] = field(default_factory=Counter)
    answered: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + len(self.client_errors)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def csrf_session(url: str) -> tuple[requests.Session, str]:
    """Open a page like a browser and return the session with the page's CSRF token."""
    session = requests.Session()
    page = session.get(url, timeout=60)
    page.raise_for_status()
    return session, CSRF_FIELD.search(page.text).group(1)


def form_poster(app: LiveApp, *, name: str, stop: threading.Event, load: FormLoad) -> None:
    """Post the form again and again until stop is set, as one browser tab."""
    session, token = csrf_session(f"{app.url}/")
    number = 0
    while not stop.is_set():
        number += 1
        text = f"{name} post {number}: {'you are an idiot' if number % 3 else 'thank you'}"
        try:
            response = session.post(
                f"{app.url}/",
                data={"csrfmiddlewaretoken": token, "text": text},
                headers={"Referer": f"{app.url}/"},
                timeout=90,
            )
        except requests.RequestException as error:
            with load.lock:
                load.client_errors.append(f"{type(error).__name__}: {error}")
            continue
        with load.lock:
            load.statuses[response.status_code] += 1
            if response.status_code == 200:
                load.answered.append(text)


@contextlib.contextmanager
def form_posters(app: LiveApp, *, threads: int, prefix: str) -> Iterator[FormLoad]:
    """Post the form from many threads for as long as the context lasts."""
    load = FormLoad()
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=form_poster,
            kwargs={"app": app, "name": f"{prefix}-{n}", "stop": stop, "load": load},
            daemon=True,
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    try:
        yield load
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=120)


def batch_upload(app: LiveApp, *, lines: list[str]) -> str:
    """Upload a .txt file on the batch page and return the new batch's id."""
    session, token = csrf_session(f"{app.url}/batches/")
    response = session.post(
        f"{app.url}/batches/",
        data={"csrfmiddlewaretoken": token, "column": ""},
        files={"file": ("lines.txt", "\n".join(lines).encode(), "text/plain")},
        headers={"Referer": f"{app.url}/batches/"},
        allow_redirects=False,
        timeout=90,
    )
    assert response.status_code == 302, (response.status_code, response.text[:2000])
    return re.search(r"/batches/([0-9a-f-]{36})/", response.headers["Location"]).group(1)


def batch_status(app: LiveApp, batch_id: str) -> dict:
    response = requests.get(f"{app.url}/batches/{batch_id}/status", timeout=90)
    response.raise_for_status()
    return response.json()


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    """Return condition()'s first true value, polling; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass(frozen=True)
class Stored:
    """What the database holds after a run, read through manage.py."""

    batch: dict
    batch_lines: list[int]
    form_texts: list[str]


def stored(app: LiveApp, *, batch_id: str, prefix: str) -> Stored:
    code = (
        "import json\n"
        "from analyzer.models import Analysis, Batch\n"
        f"batch = Batch.objects.get(pk='{batch_id}')\n"
        "lines = list(batch.analyses.order_by('batch_line')"
        ".values_list('batch_line', flat=True))\n"
        f"texts = list(Analysis.objects.filter(source='form', text__startswith='{prefix}-')"
        ".values_list('text', flat=True))\n"
        "seconds = (batch.finished_at - batch.created_at).total_seconds() "
        "if batch.finished_at else None\n"
        "print(json.dumps({'batch': {'status': batch.status, 'done': batch.done, "
        "'error': batch.error, 'items': len(batch.items), 'attempts': batch.attempts, "
        "'seconds': seconds}, 'lines': lines, 'texts': texts}))"
    )
    output = json.loads(app.manage("shell", "-c", code).stdout.strip().splitlines()[-1])
    return Stored(batch=output["batch"], batch_lines=output["lines"], form_texts=output["texts"])


@dataclass(frozen=True)
class Outcome:
    load: FormLoad
    batch_id: str
    prefix: str
    seconds: float


def batch_under_form_load(
    app: LiveApp,
    *,
    texts: int,
    threads: int,
    seconds: float,
    prefix: str,
    meanwhile: Callable[[str], None] | None = None,
) -> Outcome:
    """Post the form from `threads` threads for `seconds` while a batch of `texts` lines runs.

    `meanwhile(batch_id)` runs in the middle, once the batch has started, while the posters go on.
    """
    lines = [
        f"{prefix} line {n}: {'you idiot' if n % 5 == 0 else 'a fine day'}" for n in range(texts)
    ]
    started = time.monotonic()
    with form_posters(app, threads=threads, prefix=prefix) as load:
        time.sleep(1)  # the posters are under way before the batch arrives
        batch_id = batch_upload(app, lines=lines)
        if meanwhile is not None:
            wait_for(
                lambda: batch_status(app, batch_id)["done"] > 0,
                timeout=seconds,
                what="the batch to store its first chunk",
            )
            meanwhile(batch_id)
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    wait_for(
        lambda: batch_status(app, batch_id)["finished"],
        timeout=180,
        what="the batch to finish",
    )
    return Outcome(load=load, batch_id=batch_id, prefix=prefix, seconds=time.monotonic() - started)


def assert_nothing_lost(app: LiveApp, outcome: Outcome, *, texts: int) -> None:
    """Check no answer was 5xx, the batch is done with one analysis a line, every post stored."""
    load = outcome.load
    result = stored(app, batch_id=outcome.batch_id, prefix=outcome.prefix)
    print(
        f"\n{outcome.prefix}: {load.requests} form posts, {load.server_errors} answered >= 500 "
        f"(statuses {dict(load.statuses)}); the batch of {texts} texts was "
        f"{result.batch['status']} {result.batch['seconds']:.1f} s after its upload, in "
        f"{result.batch['attempts']} attempt(s); {outcome.seconds:.0f} s in all"
    )
    assert load.server_errors == 0, dict(load.statuses)
    assert not load.client_errors, load.client_errors[:5]
    assert set(load.statuses) == {200}, dict(load.statuses)
    assert result.batch["status"] == "done", result.batch
    assert result.batch_lines == list(range(1, texts + 1)), "one analysis a line, each once"
    assert result.batch["done"] == texts and result.batch["items"] == 0
    assert sorted(result.form_texts) == sorted(load.answered), "every answered post is stored"
