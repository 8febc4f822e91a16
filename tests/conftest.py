"""Fixtures shared by every kind of test."""

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from analyzer.engines import loader
from analyzer.engines.base import Prediction
from analyzer.engines.microbatcher import Priority
from tests.model_factory import TOXIC_BERT_LABELS, build_bert


class FakeEngine:
    """Stands in for the model: scores a text by the words it knows, or raises if told to."""

    runtime = "fake"
    model = "fake-toxic-bert"
    labels = TOXIC_BERT_LABELS
    fallback = False

    def __init__(self) -> None:
        self.error: Exception | None = None
        self.calls: list[list[str]] = []
        self.priorities: list[Priority] = []

    def predict(
        self,
        texts: Sequence[str],
        *,
        priority: Priority = Priority.ANALYSIS,
        wait: float | None = None,
    ) -> list[Prediction]:
        self.calls.append(list(texts))
        self.priorities.append(priority)
        if self.error is not None:
            raise self.error
        return [Prediction(scores=self.scores(text)) for text in texts]

    def scores(self, text: str) -> dict[str, float]:
        hostile = "idiot" in text.lower()
        return {
            "toxic": 0.97 if hostile else 0.02,
            "severe_toxic": 0.10 if hostile else 0.01,
            "obscene": 0.30 if hostile else 0.01,
            "threat": 0.01,
            "insult": 0.91 if hostile else 0.01,
            "identity_hate": 0.02,
        }


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(loader, "engine_get", lambda: engine)
    return engine


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toxic-bert-shaped BERT with random weights, built once per test run."""
    return build_bert(tmp_path_factory.mktemp("tiny-toxic-bert"))


@pytest.fixture
def fresh_classifier() -> Iterator[None]:
    """Let a test load the engine from its own settings, and forget it afterwards."""
    loader.engine_get.cache_clear()
    yield
    loader.engine_get.cache_clear()


TEST_KINDS = ("unit", "integration", "e2e", "stress")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its kind, from its folder, so `pytest -m unit` picks the right ones."""
    for item in items:
        kind = Path(item.fspath).parent.name
        if kind in TEST_KINDS:
            item.add_marker(getattr(pytest.mark, kind))
