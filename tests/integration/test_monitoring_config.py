"""promtool and amtool on the monitoring configuration, committed and rendered for this machine."""

import os
import subprocess
from pathlib import Path

import pytest

from monitoring import stack

pytestmark = pytest.mark.integration

PROMETHEUS_DIR = stack.PROMETHEUS_CONFIG.parent


def run(*command: str, cwd: Path | None = None, env: dict | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def test_the_committed_prometheus_config_is_valid(tmp_path):
    # promtool opens the token file, which docker-compose mounts as a secret: a stand-in here.
    config = stack.yaml.safe_load(stack.PROMETHEUS_CONFIG.read_text())
    (token_job,) = [job for job in config["scrape_configs"] if "authorization" in job]
    assert token_job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    token_job["authorization"]["credentials_file"] = str(tmp_path / "metrics_token")
    (tmp_path / "metrics_token").write_text("stand-in")
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    output = run("promtool", "check", "config", str(stack.write_yaml(tmp_path / "p.yml", config)))

    assert "SUCCESS: 1 rule files found" in output


def test_the_alert_rules_are_valid():
    output = run("promtool", "check", "rules", str(stack.ALERT_RULES))

    assert "SUCCESS: 12 rules found" in output


def test_every_alert_has_a_firing_and_a_silent_case_that_pass():
    rules = stack.yaml.safe_load(stack.ALERT_RULES.read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = stack.yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }

    assert fired == alerts
    output = run("promtool", "test", "rules", "alerts_test.yml", cwd=PROMETHEUS_DIR)
    assert "SUCCESS" in output


def test_every_alert_has_a_severity_a_summary_and_a_description():
    rules = stack.yaml.safe_load(stack.ALERT_RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert (
                "$labels.instance"
                in rule["annotations"]["summary"] + rule["annotations"]["description"]
            ), rule["alert"]
            assert "$value" in rule["annotations"]["description"], rule["alert"]


def test_the_config_rendered_for_this_machine_is_valid(tmp_path):
    addresses = stack.Addresses(
        app="127.0.0.1:8000",
        node_exporter="127.0.0.1:9100",
        alertmanager="127.0.0.1:9093",
        prometheus="127.0.0.1:9090",
    )
    config = stack.prometheus_config(addresses, rule_files=[stack.ALERT_RULES])
    path = stack.write_yaml(tmp_path / "prometheus.yml", config)

    run("promtool", "check", "config", str(path))
    toxmon = next(job for job in config["scrape_configs"] if job["job_name"] == "toxmon")
    assert toxmon["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]
    assert "dns_sd_configs" not in toxmon


def test_the_alertmanager_config_is_valid():
    output = run("amtool", "check-config", str(stack.ALERTMANAGER_CONFIG))

    assert "1 inhibit rules" in output


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=TargetDown"], "webhook-critical"),
        (["severity=warning", "alertname=HostCpuHigh"], "webhook"),
        (["alertname=Unlabelled"], "webhook"),
    ],
)
def test_alerts_are_routed_by_severity(labels, receiver):
    output = run(
        "amtool", "config", "routes", "test", f"--config.file={stack.ALERTMANAGER_CONFIG}", *labels
    )

    assert output.split("\n")[0].strip() == receiver


def test_the_container_entrypoint_puts_the_webhook_url_from_the_environment(tmp_path):
    fake_alertmanager = tmp_path / "alertmanager"
    fake_alertmanager.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake_alertmanager.chmod(0o755)
    rendered = tmp_path / "alertmanager.yml"
    url = "https://hooks.example/services/T0|B1?token=a&b=c\\d"

    output = run(
        "sh",
        str(stack.ALERTMANAGER_CONFIG.parent / "entrypoint.sh"),
        "--web.listen-address=:9093",
        env={
            **os.environ,
            "ALERTMANAGER_WEBHOOK_URL": url,
            "ALERTMANAGER_CONFIG": str(stack.ALERTMANAGER_CONFIG),
            "ALERTMANAGER_RENDERED_CONFIG": str(rendered),
            "ALERTMANAGER_BINARY": str(fake_alertmanager),
        },
    )

    assert output.split() == [f"--config.file={rendered}", "--web.listen-address=:9093"]
    config = stack.yaml.safe_load(rendered.read_text())
    urls = [hook["url"] for receiver in config["receivers"] for hook in receiver["webhook_configs"]]
    assert urls == [url, url]
    run("amtool", "check-config", str(rendered))


def test_the_container_entrypoint_refuses_to_start_without_a_webhook_url(tmp_path):
    started = tmp_path / "started"
    fake_alertmanager = tmp_path / "alertmanager"
    fake_alertmanager.write_text(f'#!/bin/sh\ntouch "{started}"\n')
    fake_alertmanager.chmod(0o755)

    result = subprocess.run(
        ["sh", str(stack.ALERTMANAGER_CONFIG.parent / "entrypoint.sh")],
        env={
            **os.environ,
            "ALERTMANAGER_WEBHOOK_URL": "",
            "ALERTMANAGER_CONFIG": str(stack.ALERTMANAGER_CONFIG),
            "ALERTMANAGER_RENDERED_CONFIG": str(tmp_path / "alertmanager.yml"),
            "ALERTMANAGER_BINARY": str(fake_alertmanager),
        },
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "ALERTMANAGER_WEBHOOK_URL is empty" in result.stderr
    assert not started.exists()
