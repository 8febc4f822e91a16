"""Form posts from 16 threads while a 3,000-line batch runs, on SQLite under gunicorn.

Nothing may be lost and nothing may answer 5xx, also while something else holds an exclusive
lock on the database file for 8 s (a backup, a long export).
"""

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator

import pytest

from tests.concurrent_use import ONE_ADDRESS_MANY_USERS, assert_nothing_lost, batch_under_form_load
from tests.serving import LiveApp, db_worker, served_app

TEXTS = 3_000
THREADS = 16
SECONDS = 40
LOCK_SECONDS = 8


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    workdir = tmp_path_factory.mktemp("concurrent")
    with (
        served_app(workdir, workers=2, threads=8, **ONE_ADDRESS_MANY_USERS) as live,
        db_worker(live, log=workdir / "db_worker.log"),
    ):
        yield live


def test_connections_use_wal_normal_sync_immediate_transactions_and_a_20_s_busy_timeout(app):
    # manage.py, gunicorn's workers and the db worker all connect through these settings.
    code = (
        "import json\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    pragmas = {name: cursor.execute(f'PRAGMA {name}').fetchone()[0]\n"
        "               for name in ('journal_mode', 'synchronous', 'busy_timeout')}\n"
        "print(json.dumps({**pragmas, 'transaction_mode': connection.transaction_mode}))"
    )
    settings = json.loads(app.manage("shell", "-c", code).stdout.strip().splitlines()[-1])
    assert settings == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "busy_timeout": 20_000,
        "transaction_mode": "IMMEDIATE",
    }


def test_a_batch_and_16_form_posters_at_once_lose_nothing_and_never_get_5xx(app):
    outcome = batch_under_form_load(
        app, texts=TEXTS, threads=THREADS, seconds=SECONDS, prefix="plain"
    )
    assert_nothing_lost(app, outcome, texts=TEXTS)


def test_an_exclusive_lock_held_8_s_mid_batch_delays_but_loses_nothing(app):
    held = []

    def hold_exclusive_lock(batch_id: str) -> None:
        connect = sqlite3.connect(app.database, timeout=30, isolation_level=None)
        with contextlib.closing(connect) as connection:
            connection.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            time.sleep(LOCK_SECONDS)
            connection.execute("COMMIT")
            held.append(time.monotonic() - started)

    outcome = batch_under_form_load(
        app,
        texts=TEXTS,
        threads=THREADS,
        seconds=SECONDS,
        prefix="locked",
        meanwhile=hold_exclusive_lock,
    )
    assert held and held[0] >= LOCK_SECONDS
    assert_nothing_lost(app, outcome, texts=TEXTS)
