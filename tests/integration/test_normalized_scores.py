"""Disguised insults, once normalized, reach the real model runtimes exactly as their plain forms.

The tiny models have random weights, so their scores say nothing about toxicity; what they can
show is that the model sees and scores a normalized disguise exactly as it scores the plain
words, on each runtime that serves them, through each runtime's own tokenizer.
"""

import shutil
from pathlib import Path

import pytest

from analyzer.engines.onnx_engine import OnnxEngine
from analyzer.engines.onnx_export import onnx_export
from analyzer.engines.onnx_layout import onnx_folder
from analyzer.engines.pytorch_engine import TorchEngine
from analyzer.normalization import normalized
from tests.data_files import data_rows

DISGUISED = data_rows("disguised_insults.csv")


@pytest.fixture(scope="module")
def exported_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny model with its ONNX export (the shared one stays torch-only)."""
    model_dir = tmp_path_factory.mktemp("normalized-scores") / "tiny-toxic-bert"
    shutil.copytree(tiny_model_dir, model_dir, ignore=shutil.ignore_patterns("onnx*"))
    onnx_export(model_dir, log=lambda message: None)
    return model_dir


@pytest.fixture(scope="module", params=["torch", "onnx-int8"])
def engine(request: pytest.FixtureRequest, tiny_model_dir: Path) -> TorchEngine | OnnxEngine:
    if request.param == "torch":
        return TorchEngine(str(tiny_model_dir), model="tiny-toxic-bert")
    folder = onnx_folder(request.getfixturevalue("exported_dir"))
    return OnnxEngine(folder, model="tiny-toxic-bert", runtime=request.param)


def model_input(engine: TorchEngine | OnnxEngine, text: str) -> list[list[int]]:
    """Return the token ids of each window the engine gives the model for a text."""
    if isinstance(engine, OnnxEngine):
        return [window.ids for window in engine._windows(text)]
    return [engine.tokenizer(window)["input_ids"] for window in engine.windows(text)]


def scores(engine: TorchEngine | OnnxEngine, texts: list[str]) -> list[dict[str, float]]:
    # One call for the whole list: a batch is padded to its longest text (and int8 quantised
    # with one scale per batch), so two lists of the same token ids in the same order give
    # exactly the same floats, and lists that differ anywhere do not.
    return [prediction.scores for prediction in engine.predict(texts)]


def test_each_normalized_disguise_reaches_the_model_as_the_tokens_of_its_plain_form(engine):
    # Spaced words normalize with their double-space word breaks ("you  are  a  moron"):
    # a different string, but the same tokens.
    different = [
        (row["text"], row["plain"])
        for row in DISGUISED
        if model_input(engine, normalized(text=row["text"]).text)
        != model_input(engine, row["plain"])
    ]
    assert different == []


def test_each_normalized_disguise_gets_exactly_the_scores_of_its_plain_form(engine):
    plain = scores(engine, [row["plain"] for row in DISGUISED])
    once_normalized = scores(engine, [normalized(text=row["text"]).text for row in DISGUISED])
    mismatched = [
        row["text"]
        for row, expected, actual in zip(DISGUISED, plain, once_normalized, strict=True)
        if actual != expected
    ]
    assert mismatched == []


def test_without_normalization_each_disguise_the_tokenizer_keeps_changes_the_scores(engine):
    # The control that gives the test above its meaning: random weights still tell tokens
    # apart. BERT's own normalizer drops zero-width characters and marks, so only the
    # disguises it keeps are expected to score differently.
    kept = [
        row
        for row in DISGUISED
        if model_input(engine, row["text"]) != model_input(engine, row["plain"])
    ]
    assert kept, "the list holds disguises the tokenizer does not undo by itself"
    plain = scores(engine, [row["plain"] for row in kept])
    disguised = scores(engine, [row["text"] for row in kept])
    unchanged = [
        row["text"]
        for row, expected, actual in zip(kept, plain, disguised, strict=True)
        if actual == expected
    ]
    assert unchanged == []
