"""Serve the app the way production does, two gunicorn workers, for locust to load."""

from collections.abc import Iterator

import pytest

from tests.serving import LiveApp, served_app


@pytest.fixture(scope="session")
def stress_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app under gunicorn with two workers and the engine this machine can load."""
    with served_app(tmp_path_factory.mktemp("stress-app"), workers=2, threads=2) as app:
        yield app
