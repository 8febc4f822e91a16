"""Serve the app under gunicorn on 127.0.0.1 for tests that talk to it over HTTP.

Used by the monitoring, end-to-end and stress tests. Everything started is stopped when the
context exits, also when the test fails.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until url answers 200, failing early if process exits."""
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = error
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s: {last_error}")


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop_process(process: subprocess.Popen, *, timeout: float = 15) -> None:
    """Stop a process started with start_new_session and all of its children."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@dataclass
class LiveApp:
    url: str
    env: dict[str, str]
    database: Path
    log: Path
    process: subprocess.Popen

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """Run a manage.py command against the served app's database."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )


def app_env(workdir: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a served app whose data lives in workdir."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "toxmon.settings",
        "DJANGO_SECRET_KEY": "tests-only-secret-key-for-a-served-app-0123456789",
        "DJANGO_DEBUG": "0",
        "TOXMON_DATA_DIR": str(workdir / "data"),
        "DATABASE_URL": f"sqlite:///{workdir / 'data' / 'toxmon.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        "TOXMON_MODEL_DIR": str(workdir / "models"),
    }
    env.update(extra)
    return env


@contextlib.contextmanager
def served_app(
    workdir: Path, *, workers: int = 1, threads: int = 2, startup_timeout: float = 90, **env: str
) -> Iterator[LiveApp]:
    """Migrate a fresh database in workdir and serve the app with gunicorn until exit."""
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    environment = app_env(workdir, **env)
    port = free_port()
    environment.update(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS=str(threads),
    )
    # As `make run` and the containers do: the rate limits count in the cache table.
    for command in (["migrate", "--noinput"], ["createcachetable"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "--verbosity", "0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
    log = workdir / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "toxmon.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(f"{url}/healthz", timeout=startup_timeout, process=process)
        except (TimeoutError, RuntimeError) as error:
            raise RuntimeError(f"{error}\n--- gunicorn log ---\n{log.read_text()}") from error
        yield LiveApp(
            url=url,
            env=environment,
            database=workdir / "data" / "toxmon.sqlite3",
            log=log,
            process=process,
        )
    finally:
        stop_process(process)


@contextlib.contextmanager
def db_worker(app: LiveApp, *, log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run the batch task worker against the served app's database until the context exits."""
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--interval",
                "0.2",
                "--no-reload",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=app.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log is not None:
            output.close()
    try:
        yield process
    finally:
        stop_process(process)


def form_post(url: str, text: str) -> requests.Response:
    """Post text through the app's form at url with its CSRF token, as a browser would."""
    session = requests.Session()
    page = session.get(f"{url}/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, f"the form has no CSRF token:\n{page.text[:2000]}"
    return session.post(
        f"{url}/",
        data={"csrfmiddlewaretoken": token.group(1), "text": text},
        headers={"Referer": f"{url}/"},
        timeout=30,
    )


def schemathesis_run(
    *, document_url: str, key: str, report_dir: Path, exclude_checks: str = "", timeout: float
) -> subprocess.CompletedProcess:
    """Run schemathesis's every check (less exclude_checks) on a live API's document, with key."""
    exclusions = ["--exclude-checks", exclude_checks] if exclude_checks else []
    return subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            document_url,
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            *exclusions,
            "--max-examples",
            "100",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(report_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
