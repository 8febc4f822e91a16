"""The project's original requirement: the app serves 100 requests a minute without failing."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.serving import ROOT, VENV_BIN, LiveApp, stop_process
from tests.stress.report import report_text, report_write, stress_report

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REPORT_DIR = ROOT / "reports" / "stress"
REQUESTS_PER_MINUTE = 100
USERS = 10
RUN_SECONDS = 60
PLANNED_REQUESTS = REQUESTS_PER_MINUTE * RUN_SECONDS // 60


def locust_run(url: str, workdir: Path) -> list[dict]:
    """Run locust headless against url for RUN_SECONDS and return its final JSON stats."""
    stats_base = workdir / "locust"
    log = workdir / "locust.log"
    command = [
        str(VENV_BIN / "locust"),
        *("-f", str(LOCUSTFILE), "--headless", "--only-summary"),
        *("--host", url, "--users", str(USERS), "--spawn-rate", str(USERS)),
        *("--run-time", f"{RUN_SECONDS}s", "--stop-timeout", "10"),
        *("--json-file", str(stats_base), "--logfile", str(log)),
    ]
    env = {"TOXMON_STRESS_USER_RPM": str(REQUESTS_PER_MINUTE / USERS)}
    with (workdir / "locust.out").open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=RUN_SECONDS + 45)
        finally:
            stop_process(process)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log, REPORT_DIR / "locust.log")
    stats_file = stats_base.with_suffix(".json")
    assert stats_file.is_file(), f"locust wrote no stats:\n{log.read_text()}"
    shutil.copyfile(stats_file, REPORT_DIR / "locust.json")
    return json.loads(stats_file.read_text())


def test_app_serves_100_requests_per_minute_for_a_minute_without_failures(
    stress_app: LiveApp, tmp_path: Path
) -> None:
    stats = locust_run(stress_app.url, tmp_path)

    report = stress_report(stats, run_seconds=RUN_SECONDS, planned=PLANNED_REQUESTS)
    report_write(report, REPORT_DIR)
    print(report_text(report))
    assert report["failures"] == 0, report_text(report)
    assert report["requests"] >= 0.95 * PLANNED_REQUESTS, report_text(report)
    assert {endpoint["name"] for endpoint in report["endpoints"]} == {
        "GET / (form)",
        "POST / (analyze)",
        "GET /healthz",
    }
