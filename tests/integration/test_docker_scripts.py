"""docker/entrypoint.sh and docker/healthcheck.py, run for real on this machine."""

import http.server
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_docker_scripts_are_executable_in_git():
    listing = subprocess.run(
        ["git", "ls-files", "--stage", "docker/entrypoint.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if listing:  # committed: the mode the image gets comes from git
        assert listing.startswith("100755"), listing
    assert (ROOT / "docker/entrypoint.sh").stat().st_mode & stat.S_IXUSR


# --- docker/ scripts, run for real -----------------------------------------------------------


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """Put a `python` on PATH that logs its arguments and fails when FAKE_FAIL is set."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "python"
    script.write_text(
        '#!/bin/sh\necho "python $*" >> "$CALLS"\n[ -z "${FAKE_FAIL:-}" ] || exit 3\n'
    )
    script.chmod(0o755)
    return bin_dir


def run_entrypoint(tmp_path: Path, fake_python: Path, **env: str) -> subprocess.CompletedProcess:
    calls = tmp_path / "calls"
    environment = {
        "PATH": f"{fake_python}:{os.environ['PATH']}",
        "CALLS": str(calls),
        **env,
    }
    return subprocess.run(
        [str(ROOT / "docker/entrypoint.sh"), "sh", "-c", 'echo "served" >> "$CALLS"'],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_entrypoint_migrates_then_runs_the_command(tmp_path, fake_python):
    result = run_entrypoint(tmp_path, fake_python)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls").read_text().splitlines() == [
        "python manage.py migrate --noinput",
        "python manage.py createcachetable",
        "served",
    ]


def test_entrypoint_skips_migrations_when_compose_runs_them_once(tmp_path, fake_python):
    result = run_entrypoint(tmp_path, fake_python, TOXMON_MIGRATE="0")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls").read_text().splitlines() == ["served"]


def test_entrypoint_does_not_serve_when_migrations_fail(tmp_path, fake_python):
    result = run_entrypoint(tmp_path, fake_python, FAKE_FAIL="1")
    assert result.returncode != 0
    assert "served" not in (tmp_path / "calls").read_text()


def test_entrypoint_lets_a_replica_answer_to_its_own_ip_for_prometheus(tmp_path, fake_python):
    own_ips = subprocess.run(["hostname", "-i"], capture_output=True, text=True).stdout.split()
    result = subprocess.run(
        [str(ROOT / "docker/entrypoint.sh"), "sh", "-c", 'echo "$DJANGO_ALLOWED_HOSTS"'],
        env={
            "PATH": f"{fake_python}:{os.environ['PATH']}",
            "CALLS": str(tmp_path / "calls"),
            "TOXMON_MIGRATE": "0",
            "DJANGO_ALLOWED_HOSTS": "toxmon.example.org",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    hosts = result.stdout.strip().split(",")
    assert hosts[0] == "toxmon.example.org"
    assert own_ips and set(own_ips) <= set(hosts)


@pytest.fixture
def health_server() -> Iterator[dict]:
    """Serve /healthz on 127.0.0.1 with the status the test puts in state['status']."""
    state = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(state["status"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["port"] = server.server_address[1]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_healthcheck_reports_the_app_healthy_only_on_200(health_server, status, exit_code):
    health_server["status"] = status
    result = subprocess.run(
        [sys.executable, str(ROOT / "docker/healthcheck.py")],
        env={**os.environ, "GUNICORN_BIND": f"0.0.0.0:{health_server['port']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == exit_code, result.stderr
