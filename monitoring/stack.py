"""Run Prometheus, node-exporter and Alertmanager on this machine against a local toxmon.

`make monitor` runs this in the foreground next to `make run` (the app on 127.0.0.1:8000) and
stops everything on Ctrl-C. It renders copies of prometheus/prometheus.yml and
alertmanager/alertmanager.yml with 127.0.0.1 addresses; the monitoring tests render theirs with
the same functions. Needs Debian's prometheus, prometheus-node-exporter and
prometheus-alertmanager (`make system-deps`).
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parent
PROMETHEUS_CONFIG = MONITORING / "prometheus" / "prometheus.yml"
ALERT_RULES = MONITORING / "prometheus" / "alerts.yml"
ALERTMANAGER_CONFIG = MONITORING / "alertmanager" / "alertmanager.yml"
# The URL alertmanager.yml ships with; ALERTMANAGER_WEBHOOK_URL replaces it.
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:5001/"


@dataclass(frozen=True)
class Addresses:
    """host:port of each program of the stack."""

    app: str
    node_exporter: str
    alertmanager: str
    prometheus: str


def prometheus_config(
    addresses: Addresses,
    *,
    rule_files: list[Path],
    interval: str | None = None,
    metrics_token_file: Path | None = None,
) -> dict:
    """Return prometheus.yml with every target at the given addresses instead of service names.

    The app's bearer token is read from metrics_token_file; without one, none is sent.
    """
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    targets = {
        "toxmon": addresses.app,
        "node": addresses.node_exporter,
        "prometheus": addresses.prometheus,
        "alertmanager": addresses.alertmanager,
    }
    for job in config["scrape_configs"]:
        # The app is found through DNS in docker-compose; here it is one known address.
        job.pop("dns_sd_configs", None)
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
        if "authorization" in job:
            if metrics_token_file is None:
                del job["authorization"]
            else:
                job["authorization"]["credentials_file"] = str(metrics_token_file)
    config["alerting"]["alertmanagers"] = [
        {"static_configs": [{"targets": [addresses.alertmanager]}]}
    ]
    config["rule_files"] = [str(path) for path in rule_files]
    if interval is not None:
        config["global"]["scrape_interval"] = interval
        config["global"]["evaluation_interval"] = interval
    return config


def alertmanager_config(*, webhook_url: str) -> dict:
    """Return alertmanager.yml with every webhook pointed at webhook_url."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = webhook_url
    return config


def write_yaml(path: Path, content: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def commands(addresses: Addresses, *, workdir: Path) -> dict[str, list[str]]:
    """Return the command line of each program, with its configuration and data in workdir."""
    return {
        "node-exporter": [
            "prometheus-node-exporter",
            f"--web.listen-address={addresses.node_exporter}",
        ],
        "alertmanager": [
            "prometheus-alertmanager",
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'alertmanager-data'}",
            f"--web.listen-address={addresses.alertmanager}",
            # No gossip with other Alertmanagers: it would also take port 9094.
            "--cluster.listen-address=",
        ],
        "prometheus": [
            "prometheus",
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'prometheus-data'}",
            f"--web.listen-address={addresses.prometheus}",
        ],
    }


@dataclass
class AlertWebhook:
    """An Alertmanager webhook receiver on 127.0.0.1 that keeps (and may print) what it gets."""

    port: int
    echo: bool = False
    notifications: list[dict] = field(default_factory=list)
    _received: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def receive(self, notification: dict) -> None:
        with self._received:
            self.notifications.append(notification)
            self._received.notify_all()
        if self.echo:
            for alert in notification.get("alerts", []):
                labels = alert["labels"]
                print(
                    f"[alert {alert['status']}] {labels.get('alertname')} "
                    f"({labels.get('severity')}, {labels.get('instance')}): "
                    f"{alert['annotations'].get('summary', '')}",
                    flush=True,
                )

    def wait_for(self, predicate, *, timeout: float) -> dict:
        """Return the first notification for which predicate is true, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        with self._received:
            while True:
                for notification in self.notifications:
                    if predicate(notification):
                        return notification
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no matching notification within {timeout} s; got {self.notifications}"
                    )
                self._received.wait(remaining)

    @contextlib.contextmanager
    def serving(self) -> Iterator["AlertWebhook"]:
        """Serve in a thread until the context exits."""
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                webhook.receive(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def metrics_token_write(workdir: Path) -> Path | None:
    """Write $TOXMON_METRICS_TOKEN where Prometheus reads it, readable by this user only."""
    token = os.environ.get("TOXMON_METRICS_TOKEN", "").strip()
    if not token:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "metrics_token"
    path.touch(mode=0o600)
    path.write_text(token)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="127.0.0.1:8000", help="where `make run` serves toxmon")
    parser.add_argument("--prometheus", default="127.0.0.1:9090")
    parser.add_argument("--alertmanager", default="127.0.0.1:9093")
    parser.add_argument("--node-exporter", default="127.0.0.1:9100")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=MONITORING.parent / "data" / "monitoring",
        help="rendered configuration and the data of Prometheus and Alertmanager",
    )
    args = parser.parse_args()
    addresses = Addresses(
        app=args.app,
        node_exporter=args.node_exporter,
        alertmanager=args.alertmanager,
        prometheus=args.prometheus,
    )
    webhook_url = os.environ.get("ALERTMANAGER_WEBHOOK_URL") or DEFAULT_WEBHOOK_URL
    write_yaml(
        args.workdir / "prometheus.yml",
        prometheus_config(
            addresses,
            rule_files=[ALERT_RULES],
            metrics_token_file=metrics_token_write(args.workdir),
        ),
    )
    write_yaml(args.workdir / "alertmanager.yml", alertmanager_config(webhook_url=webhook_url))

    with contextlib.ExitStack() as stack:
        if webhook_url == DEFAULT_WEBHOOK_URL:
            # Nobody else listens there on a laptop: print the alerts in this terminal.
            stack.enter_context(AlertWebhook(port=5001, echo=True).serving())
        processes = {}
        for name, command in commands(addresses, workdir=args.workdir).items():
            # Fixed program names and arguments built above, no shell.
            processes[name] = subprocess.Popen(command, start_new_session=True)  # noqa: S603
            stack.callback(stop, processes[name])
        print(
            f"Prometheus   http://{addresses.prometheus}  (alerts: /alerts, targets: /targets)\n"
            f"Alertmanager http://{addresses.alertmanager}\n"
            f"node-exporter http://{addresses.node_exporter}/metrics\n"
            f"Scraping toxmon at http://{addresses.app}/metrics; alerts go to {webhook_url}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        try:
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        print(f"{name} exited with {process.returncode}", file=sys.stderr)
                        return 1
                time.sleep(1)
        except KeyboardInterrupt:
            print("Stopping.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
