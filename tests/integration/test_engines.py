"""The real engines: the transformers pipeline on a tiny toxic-bert and the offline fallback."""

import math
import socket
import time

import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError

from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.engines.profanity_engine import ProfanityCheckEngine
from analyzer.engines.pytorch_engine import TorchEngine
from tests.model_factory import TOXIC_BERT_LABELS


@pytest.fixture(scope="module")
def tiny_engine(tiny_model_dir) -> TorchEngine:
    return TorchEngine(str(tiny_model_dir), model="tiny-toxic-bert")


def logits_of(engine: TorchEngine, text: str) -> torch.Tensor:
    inputs = engine.tokenizer(text, return_tensors="pt", truncation=True)
    with torch.no_grad():
        return engine.pipeline.model(**inputs).logits[0]


def test_the_labels_and_their_order_come_from_the_model_config(tiny_engine):
    assert tiny_engine.labels == TOXIC_BERT_LABELS
    [prediction] = tiny_engine.predict(["you are an idiot"])
    assert list(prediction.scores) == list(TOXIC_BERT_LABELS)


def test_scores_are_independent_sigmoids_of_the_logits(tiny_engine):
    text = "have a nice day my friend"
    [prediction] = tiny_engine.predict([text])
    logits = logits_of(tiny_engine, text)
    for index, label in enumerate(TOXIC_BERT_LABELS):
        expected = 1 / (1 + math.exp(-float(logits[index])))
        assert prediction.scores[label] == pytest.approx(expected, abs=1e-5)
    assert all(0.0 <= score <= 1.0 for score in prediction.scores.values())
    assert sum(prediction.scores.values()) != pytest.approx(1.0, abs=1e-3), "not a softmax"


def test_a_batch_gives_each_text_its_own_scores(tiny_engine):
    texts = ["hello", "you stupid idiot", "hello"]
    first, second, third = tiny_engine.predict(texts)
    assert first.scores == pytest.approx(third.scores)
    assert first.scores != pytest.approx(second.scores)
    [alone] = tiny_engine.predict(["you stupid idiot"])
    assert alone.scores == pytest.approx(second.scores, abs=1e-5)


def test_a_text_over_512_tokens_is_read_in_overlapping_windows(tiny_engine):
    long_text = " ".join(["hello my friend"] * 300)  # 900 tokens
    [prediction] = tiny_engine.predict([long_text])
    windows = tiny_engine.windows(long_text)
    assert prediction.windows == len(windows) >= 2
    for window in windows:
        assert len(tiny_engine.tokenizer(window, add_special_tokens=False)["input_ids"]) <= 510


def test_each_label_takes_its_maximum_over_the_windows(tiny_engine):
    friendly = " ".join(["have a nice day"] * 200)
    long_text = friendly + " you stupid idiot loser"
    [prediction] = tiny_engine.predict([long_text])
    window_predictions = tiny_engine.predict(tiny_engine.windows(long_text))
    for label in TOXIC_BERT_LABELS:
        assert prediction.scores[label] == pytest.approx(
            max(window.scores[label] for window in window_predictions), abs=1e-5
        )
    last_window = tiny_engine.windows(long_text)[-1]
    assert last_window.endswith("you stupid idiot loser"), "the end of the text is read"


def test_the_offline_engine_ranks_an_insult_above_a_friendly_sentence():
    engine = ProfanityCheckEngine()
    insult, friendly = engine.predict(["You are a complete idiot", "Have a lovely day, friend"])
    assert engine.labels == ("offensive",)
    assert insult.scores["offensive"] > 0.5 > friendly.scores["offensive"]


def test_a_model_that_cannot_be_loaded_falls_back_loudly(settings, tmp_path, caplog):
    settings.TOXMON_MODEL = "unitary/toxic-bert"
    settings.TOXMON_MODEL_DIR = tmp_path
    settings.TOXMON_REQUIRE_MODEL = False
    engine = loader.engine_load()
    assert isinstance(engine, ProfanityCheckEngine)
    assert engine.fallback
    assert "FALLBACK ENGINE ACTIVE" in caplog.text
    assert "fetch_model" in caplog.text


def test_a_broken_model_folder_also_falls_back(settings, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    settings.TOXMON_MODEL = str(tmp_path)
    settings.TOXMON_REQUIRE_MODEL = False
    assert loader.engine_load().fallback


def test_the_fallback_is_refused_when_the_model_is_required(settings, tmp_path):
    settings.TOXMON_MODEL = "unitary/toxic-bert"
    settings.TOXMON_MODEL_DIR = tmp_path
    settings.TOXMON_REQUIRE_MODEL = True
    with pytest.raises(ModelUnavailable, match="TOXMON_REQUIRE_MODEL"):
        loader.engine_load()


def test_a_local_model_folder_is_loaded(settings, tiny_model_dir):
    settings.TOXMON_MODEL = str(tiny_model_dir)
    engine = loader.engine_load()
    assert engine.runtime == "torch"
    assert engine.labels == TOXIC_BERT_LABELS


def test_a_fetched_model_is_found_in_the_model_folder(settings, tmp_path, tiny_model_dir):
    fetched = tmp_path / "unitary--toxic-bert"
    fetched.symlink_to(tiny_model_dir, target_is_directory=True)
    settings.TOXMON_MODEL = "unitary/toxic-bert"
    settings.TOXMON_MODEL_DIR = tmp_path
    assert loader.engine_load().runtime == "torch"


def test_the_engine_is_loaded_once_per_process(settings, fresh_classifier, tiny_model_dir):
    settings.TOXMON_MODEL = str(tiny_model_dir)
    assert loader.engine_get() is loader.engine_get()


def test_fetch_model_gives_up_quickly_on_a_hub_that_never_answers(settings, tmp_path, monkeypatch):
    from analyzer.management.commands import fetch_model

    # A socket that accepts connections but never answers: a firewall that drops packets.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        monkeypatch.setattr(
            "huggingface_hub.constants.ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}"
        )
        monkeypatch.setattr(fetch_model, "HUB_TIMEOUT_SECONDS", 1)
        settings.TOXMON_MODEL = "unitary/toxic-bert"
        settings.TOXMON_MODEL_DIR = tmp_path
        started = time.monotonic()
        with pytest.raises(CommandError, match="Cannot reach the model hub"):
            call_command("fetch_model")
        assert time.monotonic() - started < 30
    assert not any(tmp_path.iterdir()), "nothing half-downloaded is left behind"


def test_fetch_model_downloads_nothing_for_a_local_folder(settings, tiny_model_dir, capsys):
    settings.TOXMON_MODEL = str(tiny_model_dir)
    before = sorted(path.name for path in tiny_model_dir.iterdir())
    call_command("fetch_model", no_onnx=True)
    assert "nothing to fetch" in capsys.readouterr().out
    assert sorted(path.name for path in tiny_model_dir.iterdir()) == before
