"""The Jenkinsfile without a Jenkins server: npm-groovy-lint, then which stages run on which branch.

tests/delivery_parsers.py parses the declarative pipeline into nested blocks and evaluates each
stage's `when` on a branch name the way Jenkins does.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.delivery_parsers import Block, parse_groovy, runs_on

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GROOVY_LINT_VERSION = "16.2.0"
GROOVY_LINT_DIR = ROOT / ".cache" / "npm-groovy-lint"


@pytest.fixture(scope="module")
def pipeline() -> Block:
    return parse_groovy(source=(ROOT / "Jenkinsfile").read_text()).block("pipeline")


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
    assert [
        block.stage_name for block in pipeline.stages() if runs_on(block, branch=branch)
    ] == expected


@pytest.mark.parametrize(("branch", "promotes"), [("develop", True), ("release/1.2.0", False)])
def test_only_develop_pushes_a_release_branch_after_the_tests(pipeline, branch, promotes):
    nested = stage(pipeline, "Test").stages()
    running = [block for block in nested if runs_on(block, branch=branch)]
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


def test_test_stage_brings_the_compose_stack_up_before_promoting(pipeline):
    nested = stage(pipeline, "Test").stages()
    names = [block.stage_name for block in nested]
    assert "make test-stack" in nested[names.index("Stack")].text()
    assert names.index("Stack") < names.index("Promote to release")


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
    root = parse_groovy(source=(ROOT / "Jenkinsfile").read_text())
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
