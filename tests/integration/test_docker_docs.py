"""docs/docker.md gives the one command and every address a new user needs."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_give_the_one_command_and_every_url():
    docs = (ROOT / "docs/docker.md").read_text()
    assert "docker compose up -d --build" in docs
    for url in ("http://127.0.0.1:8000", ":3000", ":9090", ":9093"):
        assert url in docs
    assert "--profile postgres" in docs
    assert "--scale web=" in docs
