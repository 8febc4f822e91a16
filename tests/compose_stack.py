"""Bring docker-compose.yml up with the real Compose v2 binary on podman's Docker API.

podman 4.3 is not Docker in three ways the stack test meets, each handled here or in
tests/podman/compose.standins.yml: it runs no health checks by itself (they need systemd
timers), so `health_checks_run` runs them; it refuses a published port range, so web publishes
none and the test reaches each replica at its address; and the official images cannot be
pulled here, so Debian stand-ins replace them. Images are built with podman, not through
Compose (which would need DOCKER_BUILDKIT=0 on podman's API).
"""

import contextlib
import hashlib
import ipaddress
import json
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import compose

from tests import containers
from tests.serving import stop_process

ROOT = containers.ROOT
# The package's console script always exits 0; the Go binary beside it tells the truth.
COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"
STANDINS = containers.PODMAN_DIR / "standins.Containerfile"
STANDIN_FILES = (STANDINS, containers.PODMAN_DIR / "postgres-entrypoint.sh")
OVERRIDE = containers.PODMAN_DIR / "compose.standins.yml"
HEALTH_CHECK_EVERY_SECONDS = 2


def standin_image() -> str:
    """Return the stand-in image for Prometheus, Alertmanager, node-exporter and PostgreSQL."""
    base = containers.base_image()
    recipe = hashlib.sha256(base.encode())
    for path in STANDIN_FILES:
        recipe.update(path.read_bytes())
    name = f"localhost/toxmon-test-standins:{recipe.hexdigest()[:12]}"
    if containers.podman("image", "exists", name, check=False).returncode != 0:
        containers.podman(
            "build",
            "--format",
            "docker",
            "--network",
            "host",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--file",
            str(STANDINS),
            "--tag",
            name,
            str(containers.PODMAN_DIR),
            timeout=1800,
        )
    return name


@contextlib.contextmanager
def podman_service(folder: Path) -> Iterator[str]:
    """Serve podman's Docker-compatible API on a socket in folder; yield its DOCKER_HOST."""
    socket = folder / "podman.sock"
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=containers.podman_env(),
        stdout=subprocess.DEVNULL,
        stderr=(folder / "podman-service.log").open("wb"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "podman-service.log").read_text()
                raise RuntimeError(f"podman system service did not start:\n{log}")
            time.sleep(0.1)
        yield f"unix://{socket}"
    finally:
        stop_process(process)


def free_subnet() -> str:
    """Return a /24 that no podman network uses, so two test runs never share one."""
    listing = containers.podman("network", "ls", "--format", "json").stdout
    used = [
        ipaddress.ip_network(subnet["subnet"])
        for network in json.loads(listing or "[]")
        for subnet in network.get("subnets") or []
    ]
    while True:
        candidate = ipaddress.ip_network(f"10.199.{random.randrange(256)}.0/24")
        if not any(candidate.overlaps(network) for network in used):
            return str(candidate)


@dataclass
class Stack:
    project: str
    docker_host: str
    env_file: Path
    profiles: tuple[str, ...] = ()

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run Compose on docker-compose.yml with the stand-ins laid over it; raise on failure."""
        command = [str(COMPOSE_BINARY), "--project-name", self.project]
        command += ["--project-directory", str(ROOT), "--env-file", str(self.env_file)]
        command += ["--file", str(ROOT / "docker-compose.yml"), "--file", str(OVERRIDE)]
        for profile in self.profiles:
            command += ["--profile", profile]
        # Only what Compose needs: the shell's variables must not fill in the file.
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(self.env_file.parent)}
        environment["DOCKER_HOST"] = self.docker_host
        result = subprocess.run(
            [*command, *args], env=environment, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"docker compose {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n"
                f"{self.logs()}"
            )
        return result

    def containers(self) -> list[dict]:
        """Return `podman inspect` of every container of this project, running or not."""
        names = containers.podman(
            "ps",
            "--all",
            "--filter",
            f"label=com.docker.compose.project={self.project}",
            "--format",
            "{{.Names}}",
        ).stdout.split()
        if not names:
            return []
        return json.loads(containers.podman("inspect", *names).stdout)

    def service(self, name: str) -> list[dict]:
        return [
            container
            for container in self.containers()
            if container["Config"]["Labels"].get("com.docker.compose.service") == name
        ]

    def logs(self, *, lines: int = 60) -> str:
        """Return the last lines of every container's log, for a failure message."""
        parts = []
        for container in self.containers():
            result = containers.podman("logs", "--tail", str(lines), container["Name"], check=False)
            parts.append(f"--- {container['Name']} ---\n{result.stdout}{result.stderr}")
        return "\n".join(parts)


def address(container: dict) -> str:
    """Return the container's address on the compose network."""
    (network,) = container["NetworkSettings"]["Networks"].values()
    return network["IPAddress"]


def health_checked(container: dict) -> bool:
    test = (container["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
    return test != ["NONE"]


def settled(container: dict) -> bool:
    """Return whether a container is where `up --wait` would leave it."""
    state = container["State"]
    if not health_checked(container):
        # A one-shot service (migrate) has exited 0; the rest run.
        return state["Status"] == "running" or (
            state["Status"] == "exited" and state["ExitCode"] == 0
        )
    return state["Status"] == "running" and state["Health"]["Status"] == "healthy"


def wait_until_settled(stack: Stack, *, timeout: float) -> None:
    """Wait until every container runs (healthy, where it has a check) or finished cleanly.

    Instead of `up --wait`: podman 4.3 reports a container whose check is disabled with an
    empty health status, which Compose takes for a failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        waiting = [c["Name"] for c in stack.containers() if not settled(c)]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not settled after {timeout} s: {waiting}\n{stack.logs()}")
        time.sleep(1)


@contextlib.contextmanager
def health_checks_run(stack: Stack) -> Iterator[None]:
    """Run each health-checked container's check every few seconds, as Docker would."""
    stopped = threading.Event()

    def run() -> None:
        while not stopped.wait(HEALTH_CHECK_EVERY_SECONDS):
            for container in stack.containers():
                if container["State"]["Status"] == "running" and health_checked(container):
                    containers.podman("healthcheck", "run", container["Name"], check=False)

    thread = threading.Thread(target=run, name="health-checks", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=60)


@contextlib.contextmanager
def stack_up(
    folder: Path,
    *,
    docker_host: str,
    services: tuple[str, ...],
    scale: dict[str, int] | None = None,
    profiles: tuple[str, ...] = (),
    startup_timeout: float = 300,
    **env: str,
) -> Iterator[Stack]:
    """Bring services up from docker-compose.yml until settled; take it all down on exit."""
    subnet = free_subnet()
    variables = {
        "DJANGO_SECRET_KEY": "stack-test-only-secret-key-0123456789-0123456789",
        "GRAFANA_ADMIN_PASSWORD": "stack-test-only",
        "TOXMON_METRICS_TOKEN": "stack-test-only-metrics-token",
        # Alertmanager refuses to start without a receiver; the tests read its API instead.
        "ALERTMANAGER_WEBHOOK_URL": "http://127.0.0.1:9/unused",
        "TOXMON_IMAGE": containers.IMAGE_TAG,
        "TOXMON_MODEL": containers.MODEL_NAME,
        "TOXMON_STANDIN_IMAGE": standin_image(),
        "TOXMON_SUBNET": subnet,
        # Prometheus' fixed address, the only one besides loopback that may read /metrics.
        "TOXMON_PROMETHEUS_IP": str(ipaddress.ip_network(subnet)[10]),
        # One worker a replica: several replicas on two cores are enough load.
        "GUNICORN_WORKERS": "1",
        **env,
    }
    env_file = folder / "compose.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    stack = Stack(
        project=f"toxmon-test-{folder.name.lower()}"[:60].rstrip("-_"),
        docker_host=docker_host,
        env_file=env_file,
        profiles=profiles,
    )
    arguments = ["up", "--detach", "--no-build", "--pull", "never"]
    for service, replicas in (scale or {}).items():
        arguments += ["--scale", f"{service}={replicas}"]
    try:
        with health_checks_run(stack):
            stack.compose(*arguments, *services, timeout=startup_timeout)
            wait_until_settled(stack, timeout=startup_timeout)
            yield stack
    finally:
        stack.compose("down", "--volumes", "--timeout", "5", timeout=120)
