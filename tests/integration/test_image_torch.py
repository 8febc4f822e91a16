"""The image built with TOXMON_TORCH=1 keeps torch, so TOXMON_RUNTIME=torch still serves.

Slow (the 1.7 GB image, then torch's start-up), so `make test` leaves it to `make test-stack`.
"""

import pytest
import requests

from tests import containers
from tests.serving import form_post

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def torch_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    reason = containers.podman_unusable()
    if reason:
        pytest.skip(f"podman cannot build or run the image here: {reason}")
    build = containers.image_build(
        workdir=tmp_path_factory.mktemp("torch-image-build"),
        tag=f"{containers.IMAGE_TAG}-torch",
        TOXMON_TORCH="1",
    )
    containers.figures_write(torch_image_bytes=containers.image_size(build.image))
    return build.image


def test_the_torch_build_argument_keeps_the_torch_runtime_possible(torch_image):
    with containers.container_served(
        torch_image, startup_timeout=240, TOXMON_RUNTIME="torch"
    ) as container:
        health = requests.get(f"{container.url}/healthz", timeout=10)
        assert health.status_code == 200, container.logs()
        assert health.json()["engine"] == "transformers"
        response = form_post(container.url, "you stupid idiot")
        assert response.status_code == 200, container.logs()
        assert '<table class="scores">' in response.text
