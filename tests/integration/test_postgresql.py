"""The app on a real PostgreSQL server, as DATABASE_URL selects it in production."""

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.concurrent_use import (
    ONE_ADDRESS_MANY_USERS,
    assert_nothing_lost,
    batch_under_form_load,
    cache_increments_concurrently,
)
from tests.serving import db_worker, free_port, served_app, stop_process, wait_for_port

POSTGRES_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to the postgres user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def wait_for_connections(dsn: str, *, timeout: float) -> None:
    """Wait until the server accepts a connection: it listens a moment before it is ready."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with contextlib.closing(psycopg.connect(dsn)):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """Start a throwaway PostgreSQL server on a free port and return a URL to its database."""
    assert POSTGRES_BIN, "PostgreSQL is missing: `make system-deps` installs it"
    bin_dir = Path(POSTGRES_BIN[-1])
    workdir = Path(tempfile.mkdtemp(prefix="toxmon-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
    data = workdir / "data"
    subprocess.run(
        [
            *as_postgres_user(),
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "toxmon",
            "--auth=trust",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            *as_postgres_user(),
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(workdir),
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=30, process=server)
        url = f"postgres://toxmon@127.0.0.1:{port}/postgres"
        wait_for_connections(url.replace("postgres://", "postgresql://"), timeout=30)
        yield url
    finally:
        stop_process(server)
        shutil.rmtree(workdir, ignore_errors=True)


def test_analyses_are_stored_in_postgresql(tmp_path, postgres_url):
    with served_app(tmp_path, DATABASE_URL=postgres_url) as app:
        session = requests.Session()
        form = session.get(f"{app.url}/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        response = session.post(
            f"{app.url}/",
            data={"csrfmiddlewaretoken": token, "text": "You are a complete idiot"},
            headers={"Referer": f"{app.url}/"},
            timeout=30,
        )
        assert response.status_code == 200
        assert 'data-verdict="toxic"' in response.text
        # The rate limits' counts: concurrent increments are all kept, none lost.
        counted, made = cache_increments_concurrently(app)
        assert counted == made == "200"
    dsn = postgres_url.replace("postgres://", "postgresql://")
    with contextlib.closing(psycopg.connect(dsn)) as connection:
        rows = connection.execute(
            "SELECT text, verdict, scores->>'offensive' FROM analyzer_analysis"
        ).fetchall()
    assert len(rows) == 1
    text, verdict, offensive = rows[0]
    assert (text, verdict) == ("You are a complete idiot", "toxic")
    assert float(offensive) > 0.5


def test_a_batch_and_16_form_posters_at_once_lose_nothing_on_postgresql(tmp_path, postgres_url):
    with (
        served_app(
            tmp_path, workers=2, threads=8, DATABASE_URL=postgres_url, **ONE_ADDRESS_MANY_USERS
        ) as app,
        db_worker(app, log=tmp_path / "db_worker.log"),
    ):
        outcome = batch_under_form_load(app, texts=3_000, threads=16, seconds=40, prefix="pg")
        assert_nothing_lost(app, outcome, texts=3_000)
