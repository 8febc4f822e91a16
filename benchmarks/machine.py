"""The machine the benchmark runs on: its CPU, its vector and matrix extensions, its int8 peak.

The peak is measured, not looked up: a plain int8 matrix multiply (u8 x s8 -> s32, ONNX
Runtime's MatMulInteger, the kernel family the int8 model's layers use) on one thread.
"""

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import psutil

# The extensions that decide how fast int8 and fp32 matrix multiplies can run, as Linux names
# them in /proc/cpuinfo.
EXTENSIONS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)
GEMM_SIZE = 1024
GEMM_REPEATS = 10


def cpu_flags() -> tuple[str, set[str]]:
    """Return the CPU's model name and its flags, from lscpu."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)  # noqa: S607
    except FileNotFoundError:
        return model, flags
    for line in lscpu.stdout.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Model name":
            model = value.strip()
        elif key.strip() == "Flags":
            flags = set(value.split())
    return model, flags


def int8_gemm_gops(*, size: int = GEMM_SIZE, repeats: int = GEMM_REPEATS) -> float:
    """Return the best int8 GOPS (2 ops a multiply-add) of a size^3 matrix multiply, 1 thread."""
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = rng.integers(-128, 128, size=(size, size), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])],
        "int8-gemm",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [size, size])],
        [numpy_helper.from_array(weights, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    inputs = {"A": rng.integers(0, 256, size=(size, size), dtype=np.uint8)}
    best = float("inf")
    for _repeat in range(repeats):
        started = time.perf_counter()
        session.run(None, inputs)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def cpu_report() -> dict:
    """Return the CPU's name, cores, memory, extensions and measured int8 GEMM peak per core."""
    model, flags = cpu_flags()
    present = [name for name in EXTENSIONS if name in flags]
    return {
        "model": model,
        "cores": os.cpu_count() or 1,
        "memory_gib": psutil.virtual_memory().total / 2**30,
        "extensions": ", ".join(present) if present else "none of " + ", ".join(EXTENSIONS),
        "gemm_gops": int8_gemm_gops(),
        "gemm_shape": f"{GEMM_SIZE}x{GEMM_SIZE}x{GEMM_SIZE}",
        "gemm_repeats": GEMM_REPEATS,
    }


def int8_ops_per_token(model_folder: Path) -> float:
    """Return the int8 operations of a BERT's weight matrices for one token (2 per weight)."""
    config = json.loads((model_folder / "config.json").read_text())
    hidden, inner = config["hidden_size"], config["intermediate_size"]
    # Per layer: query, key, value and output (4 x hidden^2), and the two feed-forward matrices.
    weights_per_layer = 4 * hidden * hidden + 2 * hidden * inner
    return 2.0 * config["num_hidden_layers"] * weights_per_layer


def tokens_per_text(export_folder: Path, texts: list[str]) -> float:
    """Return the mean number of tokens the model reads for each text, special ones included."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return sum(len(tokenizer.encode(text).ids) for text in texts) / len(texts)


def peak_share(
    *, texts_per_second: float, tokens_per_text: float, ops_per_token: float, peak_gops: float
) -> float:
    """Return the model's int8 work per second as a percentage of the machine's int8 peak."""
    return 100 * texts_per_second * tokens_per_text * ops_per_token / (peak_gops * 1e9)
