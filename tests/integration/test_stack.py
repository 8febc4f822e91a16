"""docker-compose.yml brought up for real: Compose v2 on podman, two web replicas, monitoring.

The app's image is the one tests/integration/test_image.py builds; Prometheus, Alertmanager,
node-exporter and PostgreSQL are Debian stand-ins (tests/podman/). Grafana has no stand-in and
is not started. Several minutes, so `make test` leaves it to `make test-stack` (docs/testing.md).
"""

import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests import compose_stack, containers
from tests.serving import form_post, free_port

pytestmark = pytest.mark.integration

MONITORED = ("migrate", "web", "worker", "prometheus", "alertmanager", "node-exporter")
# TargetDown waits 1 minute (alerts.yml); add a scrape, an evaluation and Alertmanager's wait.
TARGET_DOWN_SECONDS = 180


@pytest.fixture(scope="module")
def docker_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = containers.podman_unusable()
    if reason:
        pytest.skip(f"podman cannot run the compose stack here: {reason}")
    containers.image_build(workdir=tmp_path_factory.mktemp("stack-image-build"))
    with compose_stack.podman_service(tmp_path_factory.mktemp("podman-service")) as host:
        yield host


def eventually(check: Callable[[], object], *, timeout: float, what: str) -> object:
    """Return check()'s first truthy result, retrying for up to timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(2)


# First, so its stack is down before the monitored one comes up: two cores, one stack at a time.
def test_under_the_postgres_profile_the_app_stores_analyses_in_postgresql(docker_host, tmp_path):
    password = "stack-test-postgres-password"
    with compose_stack.stack_up(
        tmp_path,
        docker_host=docker_host,
        services=("migrate", "web", "postgres"),
        profiles=("postgres",),
        POSTGRES_PASSWORD=password,
        DATABASE_URL=f"postgres://toxmon:{password}@postgres:5432/toxmon",
    ) as stack:
        (web,) = stack.service("web")
        response = form_post(f"http://{compose_stack.address(web)}:8000", "you stupid idiot")
        assert response.status_code == 200, stack.logs()
        (postgres,) = stack.service("postgres")
        stored = containers.podman(
            "exec",
            postgres["Name"],
            "psql",
            "--username=toxmon",
            "--dbname=toxmon",
            "--tuples-only",
            "--no-align",
            "--command=SELECT text, engine FROM analyzer_analysis",
        ).stdout.splitlines()
        assert stored == ["you stupid idiot|onnx-int8"]


@pytest.fixture(scope="module")
def stack(docker_host, tmp_path_factory) -> Iterator[compose_stack.Stack]:
    started = time.monotonic()
    with compose_stack.stack_up(
        tmp_path_factory.mktemp("stack"),
        docker_host=docker_host,
        services=MONITORED,
        scale={"web": 2},
        PROMETHEUS_PORT=str(free_port()),
        ALERTMANAGER_PORT=str(free_port()),
    ) as stack:
        containers.figures_write(stack_seconds_to_settled=round(time.monotonic() - started, 1))
        yield stack


def published(stack: compose_stack.Stack, service: str) -> str:
    """Return the URL of the port a service publishes on 127.0.0.1."""
    (container,) = stack.service(service)
    (bindings,) = [b for b in container["NetworkSettings"]["Ports"].values() if b]
    return f"http://{bindings[0]['HostIp']}:{bindings[0]['HostPort']}"


def web_urls(stack: compose_stack.Stack) -> list[str]:
    return [f"http://{compose_stack.address(c)}:8000" for c in stack.service("web")]


def query(prometheus: str, expression: str) -> list[dict]:
    response = requests.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10)
    return response.json()["data"]["result"]


def test_every_service_runs_healthy_with_two_web_replicas(stack):
    by_service = {service: stack.service(service) for service in MONITORED}
    assert len(by_service["web"]) == 2
    for service in ("web", "prometheus", "alertmanager", "node-exporter"):
        for container in by_service[service]:
            assert container["State"]["Health"]["Status"] == "healthy", container["Name"]
    (worker,) = by_service["worker"]
    assert worker["State"]["Status"] == "running"
    (migrate,) = by_service["migrate"]
    assert (migrate["State"]["Status"], migrate["State"]["ExitCode"]) == ("exited", 0)
    for url in web_urls(stack):
        assert requests.get(f"{url}/healthz", timeout=10).json()["engine"] == "onnx-int8"


def test_prometheus_scrapes_every_target_and_finds_both_replicas_by_dns(stack):
    prometheus = published(stack, "prometheus")
    replicas = {url.removeprefix("http://") for url in web_urls(stack)}

    def targets_up() -> dict[str, set[str]] | None:
        response = requests.get(f"{prometheus}/api/v1/targets", timeout=10).json()
        targets = response["data"]["activeTargets"]
        if not targets or any(target["health"] != "up" for target in targets):
            return None
        by_job: dict[str, set[str]] = {}
        for target in targets:
            by_job.setdefault(target["labels"]["job"], set()).add(target["labels"]["instance"])
        return by_job if by_job.get("toxmon") == replicas else None

    by_job = eventually(targets_up, timeout=90, what="every target up, both replicas found")
    assert set(by_job) == {"toxmon", "node", "prometheus", "alertmanager"}


def test_a_form_post_is_counted_in_prometheus(stack):
    prometheus = published(stack, "prometheus")
    expression = "sum(toxmon_analyses_stored_total)"

    def stored() -> float:
        result = query(prometheus, expression)
        return float(result[0]["value"][1]) if result else 0.0

    before = stored()
    assert form_post(web_urls(stack)[0], "have a nice day").status_code == 200
    eventually(lambda: stored() >= before + 1, timeout=60, what=f"{expression} counting the post")


def test_a_replica_that_stops_answering_raises_target_down_in_alertmanager(stack):
    alertmanager = published(stack, "alertmanager")
    replica = stack.service("web")[-1]
    instance = f"{compose_stack.address(replica)}:8000"
    # Paused, not stopped: a stopped replica leaves the network's DNS and Prometheus forgets
    # it (docs/docker.md); a hung one stays listed and stops answering.
    containers.podman("pause", replica["Name"])
    try:

        def target_down() -> bool:
            alerts = requests.get(f"{alertmanager}/api/v2/alerts", timeout=10).json()
            return any(
                alert["labels"]["alertname"] == "TargetDown"
                and alert["labels"].get("instance") == instance
                for alert in alerts
            )

        eventually(target_down, timeout=TARGET_DOWN_SECONDS, what=f"TargetDown for {instance}")
    finally:
        containers.podman("unpause", replica["Name"], check=False)
