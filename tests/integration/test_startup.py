"""Start-up of the real server: warm-up, the fallback, and refusing to start without a model."""

import subprocess
import urllib.request

from tests.serving import ROOT, VENV_BIN, app_env, free_port, served_app


def test_a_server_without_weights_serves_the_fallback_with_its_banner(tmp_path):
    with served_app(tmp_path, TOXMON_MODEL="unitary/toxic-bert") as app:
        with urllib.request.urlopen(f"{app.url}/") as response:
            html = response.read().decode()
        log = app.log.read_text()
    assert "Fallback engine active" in html
    assert "FALLBACK ENGINE ACTIVE" in log


def test_the_server_refuses_to_start_when_the_model_is_required_but_missing(tmp_path):
    (tmp_path / "data").mkdir()
    env = app_env(
        tmp_path,
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="1",
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        GUNICORN_WORKERS="1",
    )
    result = subprocess.run(
        [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "toxmon.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TOXMON_REQUIRE_MODEL is set" in result.stdout + result.stderr
