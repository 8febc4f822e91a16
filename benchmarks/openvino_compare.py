"""Whether OpenVINO int8 scores faster than the ONNX Runtime int8 toxmon serves (issue 13).

    .venv/bin/python benchmarks/openvino_compare.py [--rounds 12] [--model FOLDER]

`make bench-openvino` installs the `openvino` dependency group and runs it. On an Intel Xeon with
AVX-512 VNNI and AMX, OpenVINO int8 was reported to take 5.3-5.7 ms a text at batch 8 against
ONNX Runtime int8's 7.7 (equal at batch 1); this measures it again on the machine at hand, because
int8 speed depends on the CPU's int8 instructions more than on anything else.

The model is the one `make bench` uses: toxic-bert's real weights when `fetch_model` put them
in models/, else BERT-base in toxic-bert's shape with random weights (speed does not depend on
weight values). Its fused fp32 ONNX export is converted with `openvino.convert_model` and
quantized with NNCF's post-training quantization on texts of the benchmark corpus
(benchmarks/corpus.py), tokenized as analyzer/engines/onnx_engine.py does.

Each runtime runs one model call on one thread, as a gunicorn worker does (cores / workers):
ONNX Runtime with the server's session options, OpenVINO with INFERENCE_NUM_THREADS=1 and the
latency hint. Tokenizing is left out; both get the same padded arrays. The runtimes take turns
in every round, so a machine busy with something else slows them alike; each figure is the
median over rounds. The drift is each runtime's largest difference from ONNX Runtime fp32 on
fixed texts, scored one text per call. Prints a Markdown table.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from benchmarks import machine  # noqa: E402
from benchmarks.corpus import corpus_texts, drift_texts, sentence, short_texts  # noqa: E402

CALIBRATION_SIZE = 48
DRIFT_SIZE = 50
LONG_TOKENS = 128
BATCH_SIZES = (1, 8)
# Each timing block calls the model for at least this long, then the next runtime takes over.
BLOCK_SECONDS = 0.4
# Different batches of each kind, cycled, so padded shapes vary as they do when serving.
BATCHES_PER_CELL = 4

if TYPE_CHECKING:
    import openvino
    from tokenizers import Tokenizer

Feed = dict[str, np.ndarray]
Scorer = Callable[[Feed], np.ndarray]


def log(message: str) -> None:
    print(f"[openvino {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- texts and feeds ---------------------------------------------------------------------------


def tokenizer_load(export_folder: Path) -> "Tokenizer":
    """Return the export's tokenizer, truncating to the model's length and never padding."""
    from tokenizers import Tokenizer

    metadata = json.loads((export_folder / "export.json").read_text())
    tokenizer = Tokenizer.from_file(str(export_folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=metadata["max_length"])
    return tokenizer


def feed_make(token_ids: list[list[int]], input_names: set[str], pad_token_id: int = 0) -> Feed:
    """Return the model inputs for texts, padded to the longest, as onnx_engine.py builds them."""
    shape = (len(token_ids), max(len(ids) for ids in token_ids))
    feed = {
        "input_ids": np.full(shape, pad_token_id, dtype=np.int64),
        "attention_mask": np.zeros(shape, dtype=np.int64),
    }
    for row, ids in enumerate(token_ids):
        feed["input_ids"][row, : len(ids)] = ids
        feed["attention_mask"][row, : len(ids)] = 1
    if "token_type_ids" in input_names:
        feed["token_type_ids"] = np.zeros(shape, dtype=np.int64)
    return feed


def long_token_ids(tokenizer: "Tokenizer", count: int) -> list[list[int]]:
    """Return `count` comments of exactly LONG_TOKENS tokens, [CLS] and [SEP] included."""
    rng = random.Random(11)  # noqa: S311 (fixed texts, not a secret)
    rows = []
    for _ in range(count):
        ids = tokenizer.encode(sentence(rng, LONG_TOKENS + 20)).ids
        rows.append([*ids[: LONG_TOKENS - 1], ids[-1]])  # keep the closing [SEP]
    return rows


# --- the runtimes ------------------------------------------------------------------------------


def ort_scorer(model_path: Path) -> tuple[Scorer, set[str]]:
    """Return a scorer on ONNX Runtime with the server's session options and one thread."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )

    def score(feed: Feed) -> np.ndarray:
        return session.run(["logits"], feed)[0]

    return score, {model_input.name for model_input in session.get_inputs()}


def openvino_scorer(model: "openvino.Model") -> Scorer:
    """Return a scorer on OpenVINO's CPU plugin with one inference thread."""
    import openvino

    compiled = openvino.Core().compile_model(
        model,
        "CPU",
        {
            "INFERENCE_NUM_THREADS": 1,
            "NUM_STREAMS": 1,
            # One request at a time per worker, as the micro-batcher sends them.
            "PERFORMANCE_HINT": "LATENCY",
        },
    )
    request = compiled.create_infer_request()
    output = compiled.output("logits")

    def score(feed: Feed) -> np.ndarray:
        return request.infer(feed)[output].copy()

    return score


def openvino_models(
    fp32_onnx: Path, calibration: list[Feed]
) -> tuple["openvino.Model", "openvino.Model", dict[str, float]]:
    """Return the fp32 OpenVINO model, its NNCF int8 quantization, and how long each took."""
    import nncf
    import openvino

    started = time.monotonic()
    fp32 = openvino.convert_model(str(fp32_onnx))
    converted = time.monotonic()
    int8 = nncf.quantize(
        fp32,
        nncf.Dataset(calibration),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(calibration),
    )
    quantized = time.monotonic()
    seconds = {"convert": converted - started, "quantize": quantized - converted}
    return fp32, int8, seconds


# --- measuring ---------------------------------------------------------------------------------


def block_ms_per_text(score: Scorer, feeds: list[Feed], *, first: int) -> float:
    """Call score on the feeds in turn, from feeds[first], for BLOCK_SECONDS or one call at
    least; return milliseconds per text."""
    calls = texts = 0
    started = time.perf_counter()
    while True:
        feed = feeds[(first + calls) % len(feeds)]
        score(feed)
        calls += 1
        texts += len(feed["input_ids"])
        elapsed = time.perf_counter() - started
        if elapsed >= BLOCK_SECONDS:
            return 1000 * elapsed / texts


def interleaved_medians(
    scorers: dict[str, Scorer], cells: dict[str, list[Feed]], rounds: int
) -> dict[tuple[str, str], float]:
    """Return the median ms per text of each (cell, runtime), the runtimes taking turns."""
    for feeds in cells.values():  # the first call of a shape prepares it; not timed
        for score in scorers.values():
            for feed in feeds:
                score(feed)
    samples: dict[tuple[str, str], list[float]] = {}
    names = list(scorers)
    for round_index in range(rounds):
        # Alternate which runtime goes first, so neither always follows the other.
        order = names if round_index % 2 == 0 else names[::-1]
        for cell, feeds in cells.items():
            for name in order:
                # A slow call fills a block alone, so each round starts at another batch.
                sample = block_ms_per_text(scorers[name], feeds, first=round_index)
                samples.setdefault((cell, name), []).append(sample)
        log(f"Round {round_index + 1}/{rounds} done")
    return {key: statistics.median(values) for key, values in samples.items()}


def drift(reference: list[np.ndarray], other: list[np.ndarray]) -> tuple[float, float]:
    """Return the largest absolute difference of logits and of sigmoid scores."""
    first, second = np.concatenate(reference), np.concatenate(other)
    logits = float(np.abs(first - second).max())
    scores = float(np.abs(1 / (1 + np.exp(-first)) - 1 / (1 + np.exp(-second))).max())
    return logits, scores


# --- the report --------------------------------------------------------------------------------


def cpu_line() -> str:
    """Return the CPU's name and which of the extensions that matter for int8 it has."""
    model, flags = machine.cpu_flags()
    present = [name for name in machine.EXTENSIONS if name in flags]
    absent = [name for name in machine.EXTENSIONS if name not in flags]
    return (
        f"{model}, {os.cpu_count()} cores; has {', '.join(present) or 'none'}; "
        f"lacks {', '.join(absent) or 'none'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="A model folder with an onnx/ export.")
    parser.add_argument("--rounds", type=int, default=12, help="Timing rounds per figure.")
    arguments = parser.parse_args()

    import django

    django.setup()
    import nncf
    import onnxruntime
    import openvino
    from django.conf import settings

    from benchmarks.bench import model_prepare

    began = time.monotonic()
    if arguments.model:
        folder, which = arguments.model, f"`{arguments.model}`"
    else:
        folder, which = model_prepare(settings.TOXMON_MODEL_DIR)
    export_folder = folder / "onnx"
    pad_token_id = json.loads((export_folder / "export.json").read_text())["pad_token_id"]
    tokenizer = tokenizer_load(export_folder)

    ort_int8, input_names = ort_scorer(export_folder / "model.int8.onnx")
    ort_fp32, _ = ort_scorer(export_folder / "model.onnx")

    def feeds_of(token_ids: list[list[int]]) -> Feed:
        return feed_make(token_ids, input_names, pad_token_id)

    calibration_ids = [tokenizer.encode(text).ids for text in corpus_texts()[:CALIBRATION_SIZE]]
    log(f"Converting and quantizing with OpenVINO {openvino.__version__} ...")
    ov_fp32_model, ov_int8_model, seconds = openvino_models(
        export_folder / "model.onnx", [feeds_of([ids]) for ids in calibration_ids]
    )
    scorers = {
        "ORT int8": ort_int8,
        "OpenVINO int8": openvino_scorer(ov_int8_model),
        "ORT fp32": ort_fp32,
        "OpenVINO fp32": openvino_scorer(ov_fp32_model),
    }

    log("Drift against ORT fp32 ...")
    drift_ids = [tokenizer.encode(text).ids for text in drift_texts()[:DRIFT_SIZE]]
    drift_feeds = [feeds_of([ids]) for ids in drift_ids]
    reference = [ort_fp32(feed) for feed in drift_feeds]
    drifts = {
        name: drift(reference, [score(feed) for feed in drift_feeds])
        for name, score in scorers.items()
        if name != "ORT fp32"
    }

    short_ids = [tokenizer.encode(text).ids for text in short_texts()]
    long_ids = long_token_ids(tokenizer, 8 * BATCHES_PER_CELL)
    cells: dict[str, list[Feed]] = {}
    for batch in BATCH_SIZES:
        for kind, ids in (("short", short_ids), ("long", long_ids)):
            batches = [ids[start : start + batch] for start in range(0, len(ids), batch)]
            cells[f"{kind}, batch {batch}"] = [feeds_of(rows) for rows in batches][
                :BATCHES_PER_CELL
            ]
    short_tokens = statistics.mean(len(ids) for ids in short_ids[: 8 * BATCHES_PER_CELL])
    log(f"Timing {len(cells)} cells x {len(scorers)} runtimes x {arguments.rounds} rounds ...")
    medians = interleaved_medians(scorers, cells, arguments.rounds)

    print(f"Model: {which}.\n")
    print(f"CPU: {cpu_line()}.\n")
    print(
        f"ONNX Runtime {onnxruntime.__version__}, OpenVINO {openvino.get_version()}, "
        f"NNCF {nncf.__version__}; one thread each, OpenVINO with the latency hint; median of "
        f"{arguments.rounds} interleaved rounds. Short comments average {short_tokens:.1f} "
        f"tokens, long ones {LONG_TOKENS}, both counting [CLS] and [SEP].\n"
    )
    print(
        "| Texts | ORT int8 ms/text | OpenVINO int8 ms/text | OpenVINO / ORT int8 "
        "| ORT fp32 ms/text | OpenVINO fp32 ms/text |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for cell in cells:
        ort, ov = medians[(cell, "ORT int8")], medians[(cell, "OpenVINO int8")]
        print(
            f"| {cell} | {ort:.1f} | {ov:.1f} | {ov / ort:.2f} "
            f"| {medians[(cell, 'ORT fp32')]:.1f} | {medians[(cell, 'OpenVINO fp32')]:.1f} |"
        )
    print(f"\nDrift against ORT fp32 on {DRIFT_SIZE} fixed texts (benchmarks/corpus.py):\n")
    print("| Runtime | Largest logit difference | Largest score difference |")
    print("|---|---:|---:|")
    for name, (logits, scores) in drifts.items():
        print(f"| {name} | {logits:.4f} | {scores:.4f} |")
    print(
        f"\nConversion took {seconds['convert']:.1f} s, NNCF quantization on "
        f"{CALIBRATION_SIZE} texts {seconds['quantize']:.1f} s; the whole run "
        f"{(time.monotonic() - began) / 60:.1f} minutes."
    )


if __name__ == "__main__":
    main()
