"""The project's Dockerfile built for real with podman, then the image started and used.

The build uses the tiny toxic-bert (given as the `model` build context, so no hub is needed) and
the host's pip configuration; the container runs on the host's network, on its own port. Build
time, image size and time to healthy go to reports/image.json.
"""

import json
import re
from collections.abc import Iterator

import pytest
import requests

from tests import containers
from tests.model_factory import TOXIC_BERT_LABELS
from tests.serving import form_post

pytestmark = pytest.mark.integration

# The torch-free serving image measured about 0.7 GB; torch alone would add 0.8 GB.
MAX_IMAGE_BYTES = 1_000_000_000
# Report the gunicorn processes of the container: user, parent and every shared library mapped.
PROCESS_REPORT = """
import json, os, pathlib
report = []
for proc in pathlib.Path("/proc").iterdir():
    if not proc.name.isdigit() or int(proc.name) == os.getpid():
        continue
    try:
        command = (proc / "cmdline").read_bytes().split(b"\\0")
        if not any(part.endswith(b"gunicorn") for part in command):
            continue
        status = dict(
            line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line
        )
        maps = (proc / "maps").read_text().splitlines()
    except OSError:
        continue
    report.append({
        "pid": int(proc.name),
        "ppid": int(status["PPid"]),
        "uid": int(status["Uid"].split()[0]),
        "libraries": sorted({line.split()[-1] for line in maps if ".so" in line}),
    })
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    reason = containers.podman_unusable()
    if reason:
        pytest.skip(f"podman cannot build or run the image here: {reason}")
    build = containers.image_build(workdir=tmp_path_factory.mktemp("image-build"))
    containers.figures_write(
        build_seconds=round(build.seconds, 1),
        image_bytes=containers.image_size(build.image),
    )
    return build.image


@pytest.fixture(scope="module")
def served(image: str) -> Iterator[containers.Container]:
    with containers.container_served(image) as container:
        containers.figures_write(seconds_to_healthy=round(container.seconds_to_healthy, 1))
        yield container


def gunicorn_processes(container: containers.Container) -> list[dict]:
    result = container.exec("python", "-c", PROCESS_REPORT)
    assert result.returncode == 0, result.stderr + container.logs()
    processes = json.loads(result.stdout)
    assert processes, f"no gunicorn process in the container\n{container.logs()}"
    return processes


def test_the_container_serves_the_built_in_model_on_onnx_int8_and_is_healthy(served):
    health = requests.get(f"{served.url}/healthz", timeout=10)
    assert health.status_code == 200, served.logs()
    assert health.json()["engine"] == "onnx-int8"
    assert health.json()["model"] == containers.MODEL_NAME
    assert health.json()["fallback"] is False
    # The image's own HEALTHCHECK, run the way Docker would run it.
    check = containers.podman("healthcheck", "run", served.name, check=False)
    assert check.returncode == 0, check.stdout + check.stderr + served.logs()


def test_a_form_post_with_its_csrf_token_shows_the_results_table(served):
    response = form_post(served.url, "you stupid idiot")
    assert response.status_code == 200, served.logs()
    assert '<table class="scores">' in response.text
    for label in TOXIC_BERT_LABELS:
        assert f'<th scope="row">{label}</th>' in response.text


def test_metrics_answer_the_allowed_client_and_count_the_analysis(served):
    assert form_post(served.url, "have a nice day").status_code == 200
    response = requests.get(f"{served.url}/metrics", timeout=10)
    assert response.status_code == 200, served.logs()
    assert re.search(r'^toxmon_model_info\{[^}]*engine="onnx-int8"', response.text, re.M)
    stored = re.search(r"^toxmon_analyses_stored_total (\S+)$", response.text, re.M)
    assert stored and float(stored.group(1)) >= 1


def test_the_app_runs_as_a_non_root_user_that_cannot_change_its_code(served):
    assert {process["uid"] for process in gunicorn_processes(served)} == {10001}
    assert served.exec("id", "-u").stdout.strip() == "10001"
    assert served.exec("test", "-w", "/app/analyzer").returncode != 0
    assert served.exec("test", "-w", "/app/data").returncode == 0


def test_the_serving_processes_run_onnx_runtime_and_never_load_torch(served):
    processes = gunicorn_processes(served)
    master = min(process["pid"] for process in processes)
    workers = [process for process in processes if process["ppid"] == master]
    assert workers, processes
    for process in processes:
        torch_libraries = [path for path in process["libraries"] if "torch" in path]
        assert not torch_libraries, f"process {process['pid']} loaded {torch_libraries}"
    for worker in workers:
        # What answers instead: proves the maps read are those of a serving worker.
        assert any("onnxruntime" in path for path in worker["libraries"]), worker


def test_the_model_and_its_onnx_export_are_inside_the_image(served):
    listing = served.exec("sh", "-c", 'find "$TOXMON_MODEL_DIR" -name "*.onnx"').stdout.split()
    model_folder = f"/{containers.MODEL_NAME}/"
    assert len([path for path in listing if model_folder in path]) >= 2, listing


def test_the_image_stays_under_a_gigabyte_without_torch(image):
    size = containers.image_size(image)
    assert size < MAX_IMAGE_BYTES, f"the image is {size / 1e9:.2f} GB"
