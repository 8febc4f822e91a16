"""The Dockerfile and .dockerignore, read without building: hadolint, then what each stage does."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.delivery_parsers import (
    copied_sources,
    dockerfile_instructions,
    dockerignore_excludes,
    final_stage,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def excluded(path: str) -> bool:
    return dockerignore_excludes(dockerignore=DOCKERIGNORE, path=path)


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
    instructions = dockerfile_instructions(dockerfile=DOCKERFILE)
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
    instructions = dockerfile_instructions(dockerfile=DOCKERFILE)
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
    runs = " ".join(
        ins.arguments
        for ins in dockerfile_instructions(dockerfile=DOCKERFILE)
        if ins.keyword == "RUN"
    )
    assert "manage.py fetch_model" in runs
    assert "manage.py collectstatic --noinput" in runs


def test_the_runtime_image_is_offline_strict_non_root_and_healthchecked():
    stage = final_stage(dockerfile=DOCKERFILE)
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


def test_every_path_the_dockerfile_copies_exists_and_is_in_the_build_context():
    sources = copied_sources(dockerfile=DOCKERFILE)
    assert "pyproject.toml" in sources
    for source in sources:
        matches = list(ROOT.glob(source.rstrip("/")))
        assert matches, f"the Dockerfile copies {source}, which is not in the repository"
        for match in matches:
            relative = match.relative_to(ROOT).as_posix()
            assert not excluded(relative), f".dockerignore drops {relative}"


def test_dockerignore_keeps_venv_data_and_models_out_of_the_context():
    for path in (".venv/bin/python", "data/toxmon.sqlite3", "models/x/config.json", ".git/HEAD"):
        assert excluded(path), path
    assert not excluded("analyzer/models/analyses.py")
