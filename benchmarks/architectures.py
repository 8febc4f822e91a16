"""Per Detoxify architecture: ONNX export time, int8 drift against torch, sizes (a benchmark).

    .venv/bin/python benchmarks/architectures.py [--size base|tiny] [--arch bert ...]

Builds each architecture with random weights in the real checkpoint's shape (tests/model_factory;
kept in models/<arch>-shaped-<size>-random/ and reused), exports it as `fetch_model` does, timing
the export, then scores fixed texts on torch fp32, ONNX fp32 and ONNX int8 and reports the
largest absolute differences of scores and of logits, and the CPU it ran on. Random weights make
logits of a similar spread to a trained model's, but the drift of the real weights can differ.
Prints a Markdown table.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from benchmarks.corpus import drift_texts  # noqa: E402

MULTILINGUAL_TEXTS = [
    "T'es vraiment un idiot, personne ne veut de toi ici.",
    "Eres un completo idiota y todos lo saben.",
    "Sei un idiota totale, vattene.",
    "Você é um completo idiota.",
    "Sen tam bir aptalsın.",  # noqa: RUF001 (Turkish's dotless i)
    "Ты полный идиот, уходи отсюда.",
]


def cpu_description() -> str:
    """Return the CPU's model name and its vector and matrix extensions, as lscpu reports them."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    name = fields.get("Model name", platform.processor()).strip()
    flags = fields.get("Flags", "").split()
    extensions = sorted(
        flag for flag in flags if flag.startswith(("avx", "amx")) or flag in {"fma", "f16c"}
    )
    return f"{name}, {os.cpu_count()} cores; {' '.join(extensions) or 'no AVX'}"


def logits_torch(folder: Path, texts: list[str]) -> list[list[float]]:
    """Return the torch fp32 logits of each text (one window each: the texts are short)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    model.eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            inputs = tokenizer(text, return_tensors="pt", truncation=True, max_length=512)
            rows.append(model(**inputs).logits[0].tolist())
    return rows


def logits_onnx(folder: Path, runtime: str, texts: list[str]) -> list[list[float]]:
    """Return the ONNX logits of each text, one text per call as the engine feeds them."""
    import numpy as np

    from analyzer.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(folder, model="bench", runtime=runtime)
    rows = []
    for text in texts:
        [window] = engine._windows(text)
        feed = {
            "input_ids": np.array([window.ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(window.ids)), dtype=np.int64),
        }
        if "token_type_ids" in engine.input_names:
            feed["token_type_ids"] = np.array([window.type_ids], dtype=np.int64)
        [logits] = engine.session.run(["logits"], feed)
        rows.append(logits[0].tolist())
    return rows


def largest_difference(first: list[list[float]], second: list[list[float]]) -> float:
    pairs = zip(first, second, strict=True)
    return max(abs(a - b) for row_a, row_b in pairs for a, b in zip(row_a, row_b, strict=True))


def sigmoid(rows: list[list[float]]) -> list[list[float]]:
    import math

    return [[1 / (1 + math.exp(-value)) for value in row] for row in rows]


def measure(arch: str, size: str, model_dir: Path) -> dict[str, object]:
    """Build (or reuse) the model, export it, and return its figures."""
    import django

    django.setup()
    from analyzer.engines.onnx_export import onnx_export
    from analyzer.engines.onnx_layout import FP32_FILE, INT8_FILE, onnx_folder
    from tests.model_factory import build_model

    folder = model_dir / f"{arch}-shaped-{size}-random"
    if not (folder / "config.json").is_file():
        print(f"Building a {size} {arch} in {folder} ...", flush=True)
        started = time.monotonic()
        build_model(folder, arch=arch, size=size)
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    shutil.rmtree(onnx_folder(folder), ignore_errors=True)
    started = time.monotonic()
    export = onnx_export(folder, log=lambda message: None)
    export_seconds = time.monotonic() - started
    metadata = json.loads((export / "export.json").read_text())

    texts = drift_texts()[:8] + (MULTILINGUAL_TEXTS if arch == "xlm-roberta" else [])
    reference = logits_torch(folder, texts)
    figures: dict[str, object] = {
        "arch": arch,
        "export_seconds": round(export_seconds, 1),
        "fused": metadata["fused"],
        "inputs": metadata["inputs"],
        "fp32_mb": round((export / FP32_FILE).stat().st_size / 2**20),
        "int8_mb": round((export / INT8_FILE).stat().st_size / 2**20),
        "texts": len(texts),
    }
    for runtime in ("onnx-fp32", "onnx-int8"):
        fast = logits_onnx(export, runtime, texts)
        figures[runtime] = {
            "logits": round(largest_difference(fast, reference), 5),
            "scores": round(largest_difference(sigmoid(fast), sigmoid(reference)), 5),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="base")
    parser.add_argument("--arch", nargs="+", default=["bert", "roberta", "xlm-roberta"])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    arguments = parser.parse_args()
    rows = []
    for arch in arguments.arch:
        figures = measure(arch, arguments.size, arguments.model_dir)
        print(json.dumps(figures), flush=True)
        rows.append(figures)
    print(f"\nCPU: {cpu_description()}\n")
    print(
        "| architecture | export (s) | fp32 / int8 MB | int8 max |Δ score| | int8 max |Δ logit| "
        "| fp32 max |Δ logit| | fused |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        fused = ", ".join(f"{name} {count}" for name, count in row["fused"].items())
        print(
            f"| {row['arch']} | {row['export_seconds']} | {row['fp32_mb']} / {row['int8_mb']} "
            f"| {row['onnx-int8']['scores']} | {row['onnx-int8']['logits']} "
            f"| {row['onnx-fp32']['logits']} | {fused} |"
        )


if __name__ == "__main__":
    main()
