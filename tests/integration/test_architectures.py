"""Each Detoxify architecture served the same way: tiny BERT, RoBERTa and XLM-R on torch and ONNX.

The models are built (and exported by `fetch_model`) once per test run; each test runs once per
architecture.
"""

import json
import math

import onnx
import pytest
import torch
from django.urls import reverse

from analyzer.engines import loader
from analyzer.engines.onnx_engine import OnnxEngine
from analyzer.engines.onnx_layout import INT8_FILE, METADATA_FILE, onnx_folder
from analyzer.engines.pytorch_engine import TorchEngine
from analyzer.models import Analysis
from tests.model_factory import ARCHITECTURES, CHECKPOINTS

TEXTS = [
    "hello",
    "You are a complete idiot",
    "Have a nice day my friend",
    "what a complete and utter loser you are, go away",
    "Merci beaucoup, bonne journée à tous",
]
LONG_TEXT = " ".join(["have a nice day"] * 300) + " you stupid idiot loser"  # 1000+ tokens
INT8_TOLERANCE = 0.02
FP32_TOLERANCE = 1e-4
# Each tokenizer's own window bounds, and the graph inputs its tokenizer makes.
SPECIAL_TOKENS = {"bert": ("[CLS]", "[SEP]"), "roberta": ("<s>", "</s>")}
SPECIAL_TOKENS["xlm-roberta"] = SPECIAL_TOKENS["roberta"]
GRAPH_INPUTS = {
    "bert": ["input_ids", "attention_mask", "token_type_ids"],
    "roberta": ["input_ids", "attention_mask"],
    "xlm-roberta": ["input_ids", "attention_mask"],
}


@pytest.fixture(scope="module", params=ARCHITECTURES)
def arch(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def torch_engine(tiny_models, arch) -> TorchEngine:
    return TorchEngine(str(tiny_models.folder(arch)), model=f"tiny-{arch}")


@pytest.fixture(scope="module", params=["onnx-int8", "onnx-fp32"])
def onnx_engine(request, tiny_models, arch) -> OnnxEngine:
    folder = onnx_folder(tiny_models.exported(arch))
    return OnnxEngine(folder, model=f"tiny-{arch}", runtime=request.param)


def tolerance_of(engine: OnnxEngine) -> float:
    return INT8_TOLERANCE if engine.runtime == "onnx-int8" else FP32_TOLERANCE


def test_the_tokenizer_files_are_those_of_the_hub_repository(tiny_models, arch):
    files = {path.name for path in tiny_models.folder(arch).iterdir()}
    expected = {
        "bert": {"vocab.txt"},
        "roberta": {"vocab.json", "merges.txt"},
        "xlm-roberta": {"sentencepiece.bpe.model"},
    }[arch]
    assert expected <= files
    config = json.loads((tiny_models.folder(arch) / "config.json").read_text())
    assert config["model_type"] == arch
    assert config["max_position_embeddings"] == (512 if arch == "bert" else 514)


def test_the_labels_are_the_checkpoints_own_in_its_config_order(torch_engine, onnx_engine, arch):
    labels = CHECKPOINTS[arch].labels
    assert torch_engine.labels == onnx_engine.labels == labels
    [prediction] = onnx_engine.predict(["you are an idiot"])
    assert list(prediction.scores) == list(labels)


def test_scores_are_independent_sigmoids_of_the_logits(torch_engine):
    text = "have a nice day my friend"
    [prediction] = torch_engine.predict([text])
    inputs = torch_engine.tokenizer(text, return_tensors="pt", truncation=True)
    with torch.no_grad():
        logits = torch_engine.pipeline.model(**inputs).logits[0]
    for index, label in enumerate(torch_engine.labels):
        expected = 1 / (1 + math.exp(-float(logits[index])))
        assert prediction.scores[label] == pytest.approx(expected, abs=1e-5)


def test_the_export_is_fused_and_takes_only_the_inputs_the_tokenizer_makes(tiny_models, arch):
    folder = onnx_folder(tiny_models.exported(arch))
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["inputs"] == GRAPH_INPUTS[arch]
    assert metadata["fused"]["Attention"] == 2, "both attention layers are fused"
    assert metadata["max_length"] == 512
    assert metadata["pad_token_id"] == (0 if arch == "bert" else 1)
    graph = onnx.load(str(folder / INT8_FILE)).graph
    assert [graph_input.name for graph_input in graph.input] == GRAPH_INPUTS[arch]
    assert "MatMulInteger" in {node.op_type for node in graph.node}


def test_onnx_scores_are_within_tolerance_of_the_torch_path(onnx_engine, torch_engine):
    for fast, reference in zip(
        onnx_engine.predict(TEXTS), torch_engine.predict(TEXTS), strict=True
    ):
        for label in torch_engine.labels:
            assert fast.scores[label] == pytest.approx(
                reference.scores[label], abs=tolerance_of(onnx_engine)
            )


def test_a_long_text_is_read_in_windows_bounded_by_the_tokenizers_own_specials(
    onnx_engine, torch_engine, arch
):
    first, last = (onnx_engine.tokenizer.token_to_id(token) for token in SPECIAL_TOKENS[arch])
    windows = onnx_engine._windows(LONG_TEXT)
    assert len(windows) >= 2
    for window in windows:
        assert len(window.ids) <= 512, "RoBERTa's 514 positions hold 512 tokens"
        assert (window.ids[0], window.ids[-1]) == (first, last)
    assert max(len(window.ids) for window in windows) >= 500, "windows are filled"
    [fast] = onnx_engine.predict([LONG_TEXT])
    [reference] = torch_engine.predict([LONG_TEXT])
    assert fast.windows == reference.windows == len(torch_engine.windows(LONG_TEXT))
    assert torch_engine.windows(LONG_TEXT)[-1].endswith("you stupid idiot loser")
    for label in torch_engine.labels:
        assert fast.scores[label] == pytest.approx(
            reference.scores[label], abs=tolerance_of(onnx_engine)
        )


def test_no_window_is_cut_short_however_its_text_tokenizes_again(torch_engine, onnx_engine):
    # Windows cut through words; RoBERTa's first word loses its leading-space piece. Each window,
    # tokenized again on its own, must still fit, or the model's limit would cut the text's end.
    text = ("You are a complete idiot and everyone here knows it, unbelievable. " * 120).strip()
    assert torch_engine.tokenizer.model_max_length == 512
    for window in torch_engine.windows(text):
        assert len(torch_engine.tokenizer(window)["input_ids"]) <= 512
    assert torch_engine.windows(text)[-1].endswith("unbelievable.")
    [fast] = onnx_engine.predict([text])
    [reference] = torch_engine.predict([text])
    assert fast.windows == reference.windows >= 3


def test_auto_serves_the_int8_export_of_each_architecture(settings, tiny_models, arch):
    settings.TOXMON_RUNTIME = "auto"
    settings.TOXMON_MODEL = str(tiny_models.exported(arch))
    engine = loader.engine_load()
    assert (engine.runtime, engine.labels) == ("onnx-int8", CHECKPOINTS[arch].labels)
    assert not engine.fallback


def test_each_hub_id_is_served_from_the_folder_fetch_model_names_for_it(
    settings, tmp_path, tiny_models, arch
):
    hub_id = CHECKPOINTS[arch].hub_id
    (tmp_path / hub_id.replace("/", "--")).symlink_to(tiny_models.exported(arch))
    settings.TOXMON_MODEL = hub_id
    settings.TOXMON_MODEL_DIR = tmp_path
    settings.TOXMON_RUNTIME = "auto"
    settings.TOXMON_REQUIRE_MODEL = True
    engine = loader.engine_load()
    assert (engine.model, engine.runtime) == (hub_id, "onnx-int8")
    assert engine.labels == CHECKPOINTS[arch].labels


@pytest.mark.django_db
def test_the_results_page_shows_the_label_set_of_each_model(
    client, settings, fresh_classifier, tiny_models, arch
):
    settings.TOXMON_MODEL = str(tiny_models.folder(arch))
    settings.TOXMON_REQUIRE_MODEL = True
    response = client.post(reverse("analyzer:analyze"), {"text": "You are a complete idiot"})
    assert response.status_code == 200
    html = response.content.decode()
    checkpoint = CHECKPOINTS[arch]
    for label in checkpoint.labels:
        assert f'data-label="{label}"' in html
    assert html.count("<meter") == len(checkpoint.labels)
    identities = len(checkpoint.labels) - len(checkpoint.toxicity_labels)
    assert html.count("data-identity") == identities
    assert ("Identities the text mentions" in html) == (identities > 0)
    stored = Analysis.objects.get()
    assert list(stored.scores) == list(checkpoint.labels)
    assert stored.top_label in checkpoint.toxicity_labels


@pytest.mark.django_db
def test_the_multilingual_model_covers_french_but_not_german(
    client, settings, fresh_classifier, tiny_models
):
    settings.TOXMON_MODEL = str(tiny_models.folder("xlm-roberta"))
    settings.TOXMON_REQUIRE_MODEL = True
    french = client.post(
        reverse("analyzer:analyze"), {"text": "Personne ne t'a demandé ton avis, imbécile."}
    )
    assert 'class="language-note"' not in french.content.decode()
    german = client.post(
        reverse("analyzer:analyze"), {"text": "Niemand hat nach deiner Meinung gefragt."}
    )
    note = " ".join(german.content.decode().split())
    assert 'class="language-note"' in note and "looks German" in note
    assert "trained on English, French, Spanish, Italian, Portuguese, Turkish, Russian" in note
