"""The names of the runtimes a text can be scored on, shared by settings, loader and engines.

Each value is what `Analysis.engine`, `/healthz` and the metrics' `engine` label say answered.
"""

from enum import StrEnum


class Runtime(StrEnum):
    TORCH = "torch"
    ONNX_INT8 = "onnx-int8"
    ONNX_FP32 = "onnx-fp32"
    # The offline fallback, alt-profanity-check's linear model; never chosen by TOXMON_RUNTIME.
    PROFANITY_CHECK = "profanity-check"


# What TOXMON_RUNTIME may name; "auto" picks the fastest of these the model folder allows.
CONFIGURABLE_RUNTIMES = (Runtime.TORCH, Runtime.ONNX_INT8, Runtime.ONNX_FP32)
AUTO = "auto"
