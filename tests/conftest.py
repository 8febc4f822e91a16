"""Fixtures shared by every kind of test."""

import io
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import override_settings

from analyzer.engines import loader
from analyzer.engines.base import Prediction
from analyzer.engines.microbatcher import Priority
from tests.model_factory import CHECKPOINTS, TOXIC_BERT_LABELS, build_model


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


@pytest.fixture(autouse=True)
def rate_limits_forgotten() -> Iterator[None]:
    """Start every test with no request counted: the rate limits count in the cache."""
    caches["default"].clear()
    yield


@pytest.fixture
def member(django_user_model):
    """A user without staff rights, as an administrator makes for a moderator."""
    return django_user_model.objects.create_user("member", password="member-password-1")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


class TinyModels:
    """Tiny Detoxify-shaped models, each built once per test run on first use, and exported."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[str, Path] = {}
        self._exported: dict[str, Path] = {}

    def folder(self, arch: str) -> Path:
        """Return the model of this architecture (bert, roberta, xlm-roberta), without export."""
        if arch not in self._built:
            name = "tiny-" + CHECKPOINTS[arch].hub_id.split("/")[1]
            self._built[arch] = build_model(self.root / "built" / name, arch=arch)
        return self._built[arch]

    def exported(self, arch: str) -> Path:
        """Return a copy of the model with the ONNX export `fetch_model` writes beside it."""
        if arch not in self._exported:
            source = self.folder(arch)
            copy = self.root / "exported" / source.name
            shutil.copytree(source, copy)
            with override_settings(TOXMON_MODEL=str(copy)):
                call_command("fetch_model", stdout=io.StringIO())
            self._exported[arch] = copy
        return self._exported[arch]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return TinyModels(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_models: TinyModels) -> Path:
    """A toxic-bert-shaped BERT with random weights, built once per test run."""
    return tiny_models.folder("bert")


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
