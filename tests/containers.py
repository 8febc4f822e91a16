"""Build and run toxmon's image with podman, for the image and stack tests.

No registry is reachable here, so the base image (python:3.11-slim-bookworm's equivalent) is
made from Debian's packages with mmdebstrap and kept between runs. The project's own Dockerfile
is built with the host's pip configuration and CA bundle mounted, so pip finds what the host's
pip finds. podman reads tests/podman/containers.conf, never the host's configuration.
"""

import configparser
import contextlib
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.serving import free_port, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
PODMAN_DIR = ROOT / "tests" / "podman"
CACHE_DIR = ROOT / ".cache" / "image"

# What python:3.11-slim-bookworm offers the Dockerfile: python (3.11 is bookworm's python3), a
# venv with pip, CA certificates, useradd, and the usual small files (tzdata, netbase).
BASE_PACKAGES = (
    "python3",
    "python3-venv",
    "python-is-python3",
    "ca-certificates",
    "passwd",
    "netbase",
    "tzdata",
)
DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# As in Debian's slim images: no manuals, documentation or translations.
DPKG_EXCLUDES = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)
# One tag per checkout, so two checkouts testing at once on one machine never run each other's
# image; the layers are shared all the same.
IMAGE_TAG = f"localhost/toxmon-test:{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
MODEL_NAME = "tiny-toxic-bert"
# The build pip's options that name files or folders on the host; they are mounted, read-only,
# at the same path in the build.
PATH_OPTIONS = ("cert", "client-cert", "constraint", "find-links", "index-url", "extra-index-url")
# Where the host's CA bundle is mounted in the build: Debian's own bundle path, so pip and
# anything else in the build trust what the host trusts (e.g. a TLS-inspecting proxy).
BUILD_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def podman_env() -> dict[str, str]:
    """Return this process's environment with podman pointed at the tests' configuration."""
    return {**os.environ, "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf")}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run podman with the tests' configuration and return what it printed."""
    result = subprocess.run(
        ["podman", *args], env=podman_env(), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def podman_unusable() -> str | None:
    """Return why podman cannot run containers here, or None when it can."""
    for program in ("podman", "runc", "mmdebstrap"):
        if shutil.which(program) is None:
            return f"{program} is not installed (`make system-deps` installs it as root)"
    if os.geteuid() != 0:
        return "podman runs as root in these tests (runc, cgroupfs); run them as root"
    info = podman("info", "--format", "json", check=False, timeout=60)
    if info.returncode != 0:
        return f"`podman info` fails: {info.stderr.strip()[-500:]}"
    return None


def base_image() -> str:
    """Return the base image's name, building it from Debian's packages on first use."""
    recipe = [*BASE_PACKAGES, *DEBIAN_SOURCES, *DPKG_EXCLUDES]
    digest = hashlib.sha256("\n".join(recipe).encode()).hexdigest()[:12]
    name = f"localhost/toxmon-test-python:3.11-slim-bookworm-{digest}"
    if podman("image", "exists", name, check=False).returncode == 0:
        return name
    with tempfile.TemporaryDirectory(prefix="toxmon-base-") as folder:
        tarball = Path(folder) / "base.tar"
        command = ["mmdebstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}"]
        command += [f"--dpkgopt={option}" for option in DPKG_EXCLUDES]
        command += ["bookworm", str(tarball), *DEBIAN_SOURCES]
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900
        )
        if result.returncode != 0:
            raise RuntimeError(f"mmdebstrap failed:\n{result.stderr[-4000:]}")
        podman(
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["python3"]',
            str(tarball),
            name,
            timeout=300,
        )
    return name


def pip_settings() -> dict[str, str]:
    """Return the options the host's pip runs with, from its files and PIP_* variables."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    from_files: dict[str, str] = {}
    from_environment: dict[str, str] = {}
    for line in listing.splitlines():
        key, _, quoted = line.partition("=")
        section, _, option = key.rpartition(".")
        value = quoted.strip().strip("'\"")
        # pip lets its environment variables override its files.
        (from_environment if section == ":env:" else from_files)[option] = value
    return {**from_files, **from_environment}


def local_paths(value: str) -> list[Path]:
    """Return the existing local files and folders a pip option's value names."""
    paths = []
    for word in value.split():
        parsed = urllib.parse.urlparse(word)
        if parsed.scheme == "file":
            path = Path(urllib.parse.unquote(parsed.path))
            # A local index's pages link to files beside its `simple/` folder, not inside it.
            paths.append(path.parent if path.name == "simple" else path)
        elif not parsed.scheme:
            paths.append(Path(word))
    return [path for path in paths if path.exists()]


def host_ca_bundle(settings: dict[str, str]) -> Path | None:
    """Return the CA bundle the host's pip (or else its OpenSSL) trusts."""
    candidates = [settings.get("cert"), os.environ.get("SSL_CERT_FILE")]
    defaults = ssl.get_default_verify_paths()
    candidates += [defaults.cafile, defaults.openssl_cafile]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def pip_build_mounts(*, folder: Path) -> list[str]:
    """Write the host's pip configuration into folder; return podman's build-time mounts for it.

    The build's pip then reads the same indexes, wheel folders and constraints as the host's,
    e.g. a folder of wheels where torch's CPU build lies.
    """
    settings = pip_settings()
    mounts: dict[Path, str] = {}
    for option in PATH_OPTIONS:
        for path in local_paths(settings.get(option, "")):
            mounts[path] = str(path)
    ca_bundle = host_ca_bundle(settings)
    if ca_bundle is not None:
        mounts.pop(ca_bundle, None)
        settings["cert"] = BUILD_CA_BUNDLE
    # An unreachable index (PyTorch's, where there is no internet but PyPI) costs pip five
    # retries with back-off for every package; one retry is enough for a hiccup.
    settings["retries"] = "1"
    config = configparser.ConfigParser(interpolation=None)
    config["global"] = settings
    pip_conf = folder / "pip.conf"
    with pip_conf.open("w") as handle:
        config.write(handle)
    volumes = [f"{pip_conf}:/etc/pip.conf:ro"]
    if ca_bundle is not None:
        volumes.append(f"{ca_bundle}:{BUILD_CA_BUNDLE}:ro")
    volumes += [f"{path}:{target}:ro" for path, target in mounts.items()]
    return [argument for volume in volumes for argument in ("--volume", volume)]


def model_folder() -> Path:
    """Return the tiny toxic-bert kept for image builds, making it on first use."""
    folder = CACHE_DIR / MODEL_NAME
    if not (folder / "config.json").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        # Its own process: the test process should not import torch for this.
        subprocess.run(
            [sys.executable, "-m", "tests.model_factory", str(folder)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return folder


@dataclass
class Build:
    image: str
    seconds: float
    log: Path


def image_build(*, workdir: Path, tag: str = IMAGE_TAG, **build_args: str) -> Build:
    """Build the Dockerfile into tag with the tiny model; raise with the build log on failure."""
    arguments = {
        "PYTHON_IMAGE": base_image(),
        "TOXMON_MODEL": MODEL_NAME,
        **build_args,
    }
    command = ["build", "--format", "docker", "--network", "host", "--tag", tag]
    # `docker` format: OCI images have no HEALTHCHECK.
    command += ["--build-context", f"model={model_folder()}"]
    command += pip_build_mounts(folder=workdir)
    for name, value in arguments.items():
        command += ["--build-arg", f"{name}={value}"]
    log = ROOT / "reports" / "image-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    process = subprocess.Popen(
        ["podman", *command, str(ROOT)],
        env=podman_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Each line with the seconds since the start, so the log shows which step took the time.
    with log.open("w") as output:
        for line in process.stdout:
            output.write(f"[{time.monotonic() - started:7.1f} s] {line}")
    returncode = process.wait(timeout=60)
    seconds = time.monotonic() - started
    if returncode != 0:
        raise RuntimeError(f"podman build failed:\n--- build log ---\n{log.read_text()[-8000:]}")
    return Build(image=tag, seconds=seconds, log=log)


def image_size(image: str) -> int:
    """Return the image's size in bytes, as podman reports it."""
    return int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout)


@dataclass
class Container:
    name: str
    url: str
    seconds_to_healthy: float

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return f"--- container log ({self.name}) ---\n{result.stdout}{result.stderr}"

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        """Run command in the container as its user; return what it printed."""
        return podman("exec", self.name, *command, check=False)


@contextlib.contextmanager
def container_served(
    image: str, *, startup_timeout: float = 120, **env: str
) -> Iterator[Container]:
    """Run the image on the host's network on a free port until healthy; remove it on exit."""
    port = free_port()
    name = f"toxmon-test-{port}"
    environment = {
        "DJANGO_SECRET_KEY": "image-test-only-secret-key-0123456789-0123456789",
        # 127.0.0.1 only: the host network is shared, nothing else should reach this app.
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        **env,
    }
    command = ["run", "--detach", "--name", name, "--network", "host"]
    for key, value in environment.items():
        command += ["--env", f"{key}={value}"]
    started = time.monotonic()
    podman(*command, image)
    container = Container(name=name, url=f"http://127.0.0.1:{port}", seconds_to_healthy=0.0)
    try:
        try:
            wait_for_http(f"{container.url}/healthz", timeout=startup_timeout)
        except TimeoutError as error:
            raise RuntimeError(f"{error}\n{container.logs()}") from error
        container.seconds_to_healthy = time.monotonic() - started
        yield container
    finally:
        podman("rm", "--force", "--time", "5", name, check=False)


def figures_write(**figures: float | str) -> Path:
    """Add figures to reports/image.json, for CI to keep beside the JUnit reports."""
    path = ROOT / "reports" / "image.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**known, **figures}, indent=2) + "\n")
    return path
