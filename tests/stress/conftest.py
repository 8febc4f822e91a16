"""Serve the app the way production does, two gunicorn workers, for locust to load."""

from collections.abc import Iterator

import pytest

from tests.serving import LiveApp, served_app

STRESS_FORM_RATE_LIMIT = "100000/minute"


@pytest.fixture(scope="session")
def stress_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app under gunicorn with two workers and the engine this machine can load.

    Every locust user posts from 127.0.0.1, one client to the per-address rate limit, so the
    limit is set far above the load here: this measures the service, not the limit.
    """
    with served_app(
        tmp_path_factory.mktemp("stress-app"),
        workers=2,
        threads=2,
        TOXMON_FORM_RATE_LIMIT=STRESS_FORM_RATE_LIMIT,
    ) as app:
        yield app
