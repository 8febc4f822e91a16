"""The monitoring stack for real: node-exporter, Alertmanager and Prometheus on 127.0.0.1
watching the app under gunicorn with two workers.

The tests run in file order on one stack; the last one stops the app and waits for the
target-down alert at a webhook in this process. Scrapes and rule evaluations run every second
and the rules' `for:` are shortened in the test's own copy of alerts.yml.
"""

import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.multiprocess import MultiProcessCollector

from monitoring import stack
from monitoring.grafana import generate_dashboard
from tests.serving import LiveApp, free_port, served_app, stop_process, wait_for_http

pytestmark = pytest.mark.integration

SENTENCES = [
    "You are a complete idiot",
    "Thank you for the kind help yesterday",
    "Shut up, you stupid moron",
    "The meeting moved to Thursday at ten",
]
ANALYSES = 20
# /metrics asks for it, and Prometheus sends it from a file, as in docker-compose.
METRICS_TOKEN = "monitoring-test-metrics-token"
# What Grafana would put in the dashboard's variables for "all instances" and a short range.
DASHBOARD_VARIABLES = {"$__rate_interval": "15s", "$instance": ".+"}


@dataclass
class Stack:
    app: LiveApp
    prometheus: str
    alertmanager: str
    webhook: stack.AlertWebhook

    def query(self, expr: str) -> list[dict]:
        response = requests.get(
            f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=5
        )
        response.raise_for_status()
        return response.json()["data"]["result"]

    def value(self, expr: str) -> float:
        result = self.query(expr)
        assert len(result) == 1, f"{expr} -> {result}"
        return float(result[0]["value"][1])

    def wait_for_value(self, expr: str, expected: float, *, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result and float(result[0]["value"][1]) == expected:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{expr} is {result}, expected {expected}")
            time.sleep(0.5)


def short_rules(target: Path) -> Path:
    """Write a copy of alerts.yml whose alerts fire after 2 s instead of minutes."""
    rules = yaml.safe_load(stack.ALERT_RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "2s"
    return stack.write_yaml(target, rules)


def fast_alertmanager_config(webhook_url: str) -> dict:
    """Return alertmanager.yml pointed at the test's webhook, sending within a second."""
    config = stack.alertmanager_config(webhook_url=webhook_url)
    for route in [config["route"], *config["route"]["routes"]]:
        route["group_wait"] = "1s"
        route["group_interval"] = "1s"
    return config


def token_file(path: Path) -> Path:
    path.write_text(METRICS_TOKEN)
    return path


@pytest.fixture(scope="module")
def monitored(tmp_path_factory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("monitoring")
    with (
        stack.AlertWebhook(port=free_port()).serving() as webhook,
        served_app(workdir / "app", workers=2, TOXMON_METRICS_TOKEN=METRICS_TOKEN) as app,
    ):
        addresses = stack.Addresses(
            app=app.url.removeprefix("http://"),
            node_exporter=f"127.0.0.1:{free_port()}",
            alertmanager=f"127.0.0.1:{free_port()}",
            prometheus=f"127.0.0.1:{free_port()}",
        )
        rules = short_rules(workdir / "alerts.yml")
        stack.write_yaml(
            workdir / "prometheus.yml",
            stack.prometheus_config(
                addresses,
                rule_files=[rules],
                interval="1s",
                metrics_token_file=token_file(workdir / "metrics_token"),
            ),
        )
        stack.write_yaml(workdir / "alertmanager.yml", fast_alertmanager_config(webhook.url))
        processes = []
        try:
            for name, command in stack.commands(addresses, workdir=workdir).items():
                with (workdir / f"{name}.log").open("wb") as log:
                    processes.append(
                        subprocess.Popen(
                            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
            for url, process in zip(
                (
                    f"http://{addresses.node_exporter}/metrics",
                    f"http://{addresses.alertmanager}/-/ready",
                    f"http://{addresses.prometheus}/-/ready",
                ),
                processes,
                strict=True,
            ):
                wait_for_http(url, timeout=30, process=process)
            yield Stack(
                app=app,
                prometheus=f"http://{addresses.prometheus}",
                alertmanager=f"http://{addresses.alertmanager}",
                webhook=webhook,
            )
        finally:
            for process in reversed(processes):
                stop_process(process)


def analyze(app_url: str, text: str) -> int:
    """Post one text through the form, on a fresh connection, and return the status."""
    # A new connection per request: gunicorn's keep-alive would pin a session to one worker.
    headers = {"Connection": "close"}
    page = requests.get(f"{app_url}/", headers=headers, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the form has no CSRF token"
    response = requests.post(
        f"{app_url}/",
        data={"text": text, "csrfmiddlewaretoken": token.group(1)},
        cookies=page.cookies,
        headers={**headers, "Referer": f"{app_url}/"},
        timeout=30,
    )
    return response.status_code


@pytest.fixture(scope="module")
def analysed(monitored: Stack) -> Stack:
    texts = [SENTENCES[index % len(SENTENCES)] for index in range(ANALYSES)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda text: analyze(monitored.app.url, text), texts))
    assert statuses == [200] * ANALYSES, monitored.app.log.read_text()[-4000:]
    monitored.wait_for_value('sum(toxmon_analyses_stored_total{job="toxmon"})', ANALYSES)
    return monitored


def test_every_target_is_up(monitored: Stack):
    deadline = time.monotonic() + 20
    while True:
        targets = {(t["metric"]["job"], t["value"][1]) for t in monitored.query("up")}
        if targets == {("toxmon", "1"), ("node", "1"), ("prometheus", "1"), ("alertmanager", "1")}:
            break
        assert time.monotonic() < deadline, f"targets not all up: {targets}"
        time.sleep(0.5)


def test_counts_match_what_was_sent_across_both_workers(analysed: Stack):
    with sqlite3.connect(analysed.app.database) as database:
        stored = dict(
            database.execute("SELECT verdict, COUNT(*) FROM analyzer_analysis GROUP BY verdict")
        )
    assert sum(stored.values()) == ANALYSES
    assert set(stored) == {"toxic", "not_toxic"}

    for verdict, count in stored.items():
        assert (
            analysed.value(f'sum(toxmon_texts_analyzed_total{{job="toxmon", verdict="{verdict}"}})')
            == count
        )
    responses = "django_http_responses_total_by_status_view_method_total"
    assert (
        analysed.value(f'sum({responses}{{view="analyzer:analyze", method="POST", status="200"}})')
        == ANALYSES
    )
    assert (
        analysed.value(f'sum({responses}{{view="analyzer:analyze", method="GET", status="200"}})')
        == ANALYSES
    )
    assert analysed.value('sum(toxmon_inference_duration_seconds_count{job="toxmon"})') == ANALYSES
    assert analysed.value('sum(toxmon_label_score_count{job="toxmon"})') >= ANALYSES
    assert analysed.value('toxmon_fallback_active{job="toxmon"}') == 1

    # Both workers answered, and Prometheus saw the sum of their counts, not one worker's.
    metrics_dir = Path(analysed.app.env["PROMETHEUS_MULTIPROC_DIR"])
    stored_by_worker = {}
    for path in metrics_dir.glob("counter_*.db"):
        samples = [
            sample.value
            for metric in MultiProcessCollector.merge([str(path)])
            for sample in metric.samples
            if sample.name == "toxmon_analyses_stored_total"
        ]
        stored_by_worker[path.name] = sum(samples)
    busy_workers = [name for name, count in stored_by_worker.items() if count]
    assert len(busy_workers) == 2, stored_by_worker
    assert sum(stored_by_worker.values()) == ANALYSES


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = yaml.safe_load(generate_dashboard.OUTPUT.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in DASHBOARD_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"unhandled variable in {expr}"
            queries.append((f"{panel['title']} / {target['refId']}", expr))
    return queries


def test_every_query_of_every_dashboard_panel_returns_data(analysed: Stack):
    queries = dashboard_queries()
    assert len(queries) > 15
    end = time.time()
    empty = []
    for name, expr in queries:
        response = requests.get(
            f"{analysed.prometheus}/api/v1/query_range",
            params={"query": expr, "start": end - 30, "end": end, "step": "1s"},
            timeout=5,
        )
        assert response.status_code == 200, f"{name}: {response.text}"
        if not response.json()["data"]["result"]:
            empty.append(f"{name}: {expr}")
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_a_down_target_silences_its_other_alerts_in_alertmanager(monitored: Stack):
    def alert(name: str, instance: str, severity: str) -> dict:
        labels = {"alertname": name, "instance": instance, "severity": severity, "job": "test"}
        return {"labels": labels, "annotations": {"summary": name}}

    response = requests.post(
        f"{monitored.alertmanager}/api/v2/alerts",
        json=[
            alert("TargetDown", "inhibition-test:1", "critical"),
            alert("ToxmonInferenceSlow", "inhibition-test:1", "warning"),
            alert("ToxmonInferenceSlow", "inhibition-test:2", "warning"),
        ],
        timeout=5,
    )
    response.raise_for_status()
    alerts = requests.get(
        f"{monitored.alertmanager}/api/v2/alerts",
        params={"filter": 'job="test"'},
        timeout=5,
    ).json()
    states = {
        (a["labels"]["alertname"], a["labels"]["instance"]): a["status"]["state"] for a in alerts
    }

    assert states == {
        ("TargetDown", "inhibition-test:1"): "active",
        ("ToxmonInferenceSlow", "inhibition-test:1"): "suppressed",
        ("ToxmonInferenceSlow", "inhibition-test:2"): "active",
    }


def test_stopping_the_app_sends_target_down_to_the_webhook(monitored: Stack):
    instance = monitored.app.url.removeprefix("http://")
    stop_process(monitored.app.process)

    def app_down(notification: dict) -> bool:
        return any(
            alert["status"] == "firing"
            and alert["labels"]["alertname"] == "TargetDown"
            and alert["labels"]["instance"] == instance
            for alert in notification["alerts"]
        )

    notification = monitored.webhook.wait_for(app_down, timeout=45)

    assert notification["receiver"] == "webhook-critical"
    [alert] = [a for a in notification["alerts"] if a["labels"]["alertname"] == "TargetDown"]
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == f"toxmon target {instance} is down"
