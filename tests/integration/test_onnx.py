"""The ONNX runtimes on the tiny toxic-bert: export, fuse, quantise, same answers as torch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from django.core.management import call_command

from analyzer import metrics
from analyzer.engines import loader
from analyzer.engines.base import BatchLimits, ModelUnavailable
from analyzer.engines.onnx_engine import OnnxEngine
from analyzer.engines.onnx_layout import FP32_FILE, INT8_FILE, METADATA_FILE, onnx_folder
from analyzer.engines.pytorch_engine import TorchEngine
from tests.model_factory import TOXIC_BERT_LABELS
from tests.serving import app_env

ROOT = Path(__file__).resolve().parent.parent.parent
TEXTS = [
    "hello",
    "you stupid idiot",
    "have a nice day my friend",
    "what a complete and utter loser you are, go away",
    "thanks for the kind comment, see you tomorrow morning",
]
LONG_TEXT = " ".join(["have a nice day"] * 200) + " you stupid idiot loser"  # 800+ tokens
# int8 weights move scores a little; the issue allows 0.02 on the real model.
INT8_TOLERANCE = 0.02
FP32_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported_dir(tiny_models) -> Path:
    """A copy of the tiny model, exported by `fetch_model` (the shared one stays torch-only)."""
    return tiny_models.exported("bert")


@pytest.fixture(scope="module")
def unexported_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A copy of the tiny model without an ONNX export, whatever other tests did to theirs."""
    model_dir = tmp_path_factory.mktemp("unexported") / "tiny-toxic-bert"
    shutil.copytree(tiny_model_dir, model_dir, ignore=shutil.ignore_patterns("onnx*"))
    return model_dir


@pytest.fixture(scope="module")
def torch_engine(tiny_model_dir) -> TorchEngine:
    return TorchEngine(str(tiny_model_dir), model="tiny-toxic-bert")


@pytest.fixture(scope="module", params=["onnx-int8", "onnx-fp32"])
def onnx_engine(request, exported_dir) -> OnnxEngine:
    return OnnxEngine(onnx_folder(exported_dir), model="tiny-toxic-bert", runtime=request.param)


def tolerance_of(engine: OnnxEngine) -> float:
    return INT8_TOLERANCE if engine.runtime == "onnx-int8" else FP32_TOLERANCE


def test_fetch_model_exports_a_fused_fp32_and_a_quantised_int8_graph(exported_dir):
    folder = onnx_folder(exported_dir)
    metadata = json.loads((folder / METADATA_FILE).read_text())
    assert metadata["opset"] == 17
    assert metadata["fused"]["Attention"] == 2, "both attention layers are fused"
    assert metadata["labels"] == list(TOXIC_BERT_LABELS)
    int8_ops = {node.op_type for node in onnx.load(str(folder / INT8_FILE)).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= int8_ops
    assert (folder / INT8_FILE).stat().st_size < (folder / FP32_FILE).stat().st_size / 2
    assert not folder.with_name("onnx.partial").exists()


def test_fetch_model_keeps_an_existing_export(settings, exported_dir, capsys):
    settings.TOXMON_MODEL = str(exported_dir)
    call_command("fetch_model")
    assert "already in" in capsys.readouterr().out


def test_the_onnx_engine_has_the_labels_of_the_model_config(onnx_engine):
    assert onnx_engine.labels == TOXIC_BERT_LABELS
    [prediction] = onnx_engine.predict(["you are an idiot"])
    assert list(prediction.scores) == list(TOXIC_BERT_LABELS)


def test_onnx_scores_are_within_tolerance_of_the_torch_path(onnx_engine, torch_engine):
    for fast, reference in zip(
        onnx_engine.predict(TEXTS), torch_engine.predict(TEXTS), strict=True
    ):
        for label in TOXIC_BERT_LABELS:
            assert fast.scores[label] == pytest.approx(
                reference.scores[label], abs=tolerance_of(onnx_engine)
            )
            assert 0.0 <= fast.scores[label] <= 1.0


def test_padding_in_a_batch_does_not_change_a_texts_scores(onnx_engine):
    # int8 activations are quantised with one scale per batch, so batch mates move a score a
    # little; fp32 must not move at all.
    tolerance = 1e-3 if onnx_engine.runtime == "onnx-int8" else 1e-5
    together = onnx_engine.predict(TEXTS)
    for text, in_batch in zip(TEXTS, together, strict=True):
        [alone] = onnx_engine.predict([text])
        assert alone.scores == pytest.approx(in_batch.scores, abs=tolerance)


def test_a_long_text_is_read_in_the_same_windows_as_on_torch(onnx_engine, torch_engine):
    [fast] = onnx_engine.predict([LONG_TEXT])
    [reference] = torch_engine.predict([LONG_TEXT])
    assert fast.windows == reference.windows == len(torch_engine.windows(LONG_TEXT)) >= 2
    for window in onnx_engine._windows(LONG_TEXT):
        assert len(window.ids) <= 512
    for label in TOXIC_BERT_LABELS:
        assert fast.scores[label] == pytest.approx(
            reference.scores[label], abs=tolerance_of(onnx_engine)
        )


def test_batched_requests_get_the_same_scores_as_unbatched(exported_dir):
    folder = onnx_folder(exported_dir)
    plain = OnnxEngine(folder, model="tiny", runtime="onnx-fp32")
    batched = OnnxEngine(folder, model="tiny", runtime="onnx-fp32", batch=BatchLimits())
    texts = [*TEXTS, LONG_TEXT]
    for expected, actual in zip(plain.predict(texts), batched.predict(texts), strict=True):
        assert actual.windows == expected.windows
        assert actual.scores == pytest.approx(expected.scores, abs=1e-5)


def test_auto_serves_int8_where_the_export_exists_and_torch_where_not(
    settings, exported_dir, unexported_dir
):
    settings.TOXMON_RUNTIME = "auto"
    settings.TOXMON_MODEL = str(exported_dir)
    engine = loader.engine_load()
    assert (engine.runtime, engine.model) == ("onnx-int8", str(exported_dir))
    assert metrics.MODEL_INFO.labels(engine="onnx-int8", model=str(exported_dir))._value.get() == 1
    settings.TOXMON_MODEL = str(unexported_dir)
    assert loader.engine_load().runtime == "torch"


@pytest.mark.parametrize("runtime", ["torch", "onnx-fp32"])
def test_the_runtime_can_be_chosen(settings, exported_dir, runtime):
    settings.TOXMON_RUNTIME = runtime
    settings.TOXMON_MODEL = str(exported_dir)
    assert loader.engine_load().runtime == runtime


def test_an_onnx_runtime_without_an_export_is_refused_when_the_model_is_required(
    settings, unexported_dir
):
    settings.TOXMON_RUNTIME = "onnx-int8"
    settings.TOXMON_MODEL = str(unexported_dir)
    settings.TOXMON_REQUIRE_MODEL = True
    with pytest.raises(ModelUnavailable, match="fetch_model"):
        loader.engine_load()


def test_a_server_on_onnx_never_imports_torch_or_transformers(exported_dir, tmp_path):
    script = (
        "import json, sys\n"
        "import toxmon.wsgi\n"
        "from analyzer.engines.loader import engine_get\n"
        "engine = engine_get()\n"
        "[prediction] = engine.predict(['you stupid idiot'])\n"
        "heavy = sorted(name for name in sys.modules\n"
        "               if name.split('.')[0] in {'torch', 'transformers'})\n"
        "print(json.dumps({'engine': engine.runtime, 'heavy': heavy,\n"
        "                  'labels': list(prediction.scores)}))\n"
    )
    (tmp_path / "data").mkdir()
    env = app_env(tmp_path, TOXMON_MODEL=str(exported_dir), TOXMON_REQUIRE_MODEL="1")
    env.pop("TOXMON_RUNTIME", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["engine"] == "onnx-int8"
    assert report["labels"] == list(TOXIC_BERT_LABELS)
    assert report["heavy"] == []
