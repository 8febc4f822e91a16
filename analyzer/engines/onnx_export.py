"""Turn a transformers checkpoint into the ONNX files the fast runtimes serve.

Three steps, each with the tool its maker provides (optimum would do them too, but it pins
transformers 4.x): `torch.onnx.export` at opset 17, `onnxruntime.transformers.optimizer` to fuse
attention, GELU and layer norms into single kernels, and `quantize_dynamic` for int8 weights. The
result lies in `<model folder>/onnx/` beside a `tokenizer.json` and `export.json` (labels,
lengths; onnx_layout.py names them), so serving needs neither torch nor transformers. This
module imports torch: it runs in `fetch_model`, never in the server.

BERT, RoBERTa and XLM-R export alike. The graph takes the inputs the model's tokenizer makes
(RoBERTa and XLM-R have no token_type_ids), and all three go through the optimizer's "bert"
fusions: onnxruntime has no "roberta" model type, and its BERT fusions match RoBERTa's layers
(attention, GELU, skip layer norms); only BERT's embedding has a fused kernel of its own.
"""

import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from analyzer.engines.onnx_layout import (
    FORMAT_VERSION,
    FP32_FILE,
    INT8_FILE,
    METADATA_FILE,
    TOKENIZER_FILE,
    export_is_complete,
    onnx_folder,
)
from analyzer.windows import model_max_tokens

OPSET = 17
# The inputs an encoder classifier may take, in the order the graph lists them.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def onnx_export(
    model_folder: Path, *, force: bool = False, log: Callable[[str], None] = print
) -> Path:
    """Export, fuse and quantise the model in model_folder; return the ONNX folder."""
    model_folder = Path(model_folder)
    target = onnx_folder(model_folder)
    if export_is_complete(target) and not force:
        log(f"The ONNX export is already in {target}.")
        return target
    # Build next to the target and rename at the end, so a half-done export is never served.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        _export_into(model_folder, partial, log=log)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _export_into(model_folder: Path, folder: Path, *, log: Callable[[str], None]) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(model_folder)
    # The eager attention traces to plain MatMul/Softmax, the pattern the optimizer fuses.
    model = AutoModelForSequenceClassification.from_pretrained(
        model_folder, attn_implementation="eager"
    )
    model.eval()
    config = model.config
    # Only the fast tokenizer's one-file form is needed to serve; the slow files stay behind.
    tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))

    raw = folder / "model.raw.onnx"
    sample = tokenizer(["an example text", "a longer example text to trace"], padding=True)
    # Only what the tokenizer makes: a RoBERTa traced with token_type_ids would demand them.
    # The forward methods take these three first, in this order, so they can go by position.
    input_names = [name for name in INPUT_NAMES if name in sample]
    inputs = tuple(torch.tensor(sample[name]) for name in input_names)
    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
    dynamic_axes["logits"] = {0: "batch"}
    log(f"Exporting {model_folder} to ONNX (opset {OPSET}) ...")
    # The tracer warns about the legacy exporter and constant mask shapes; both are expected
    # for an encoder whose masks never depend on a cache.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            inputs,
            str(raw),
            input_names=input_names,
            output_names=["logits"],
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            # The TorchScript exporter needs no onnxscript and handles BERT's dynamic shapes.
            dynamo=False,
            do_constant_folding=True,
        )

    log("Fusing attention, GELU and layer norms ...")
    optimized = optimize_model(
        str(raw),
        model_type="bert",  # RoBERTa and XLM-R too: see the module's docstring
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    )
    fused = optimized.get_fused_operator_statistics()
    if not fused.get("Attention"):
        raise RuntimeError(f"the optimizer fused no attention layer: {fused}")
    optimized.save_model_to_file(str(folder / FP32_FILE))
    raw.unlink()

    log("Quantising the weights to int8 ...")
    # The quantiser logs a line per tensor at INFO on the root logger.
    previous_disable = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        quantize_dynamic(
            folder / FP32_FILE,
            folder / INT8_FILE,
            weight_type=QuantType.QInt8,
            # The fused contrib ops carry no inferred types; their tensors are float.
            extra_options={"DefaultTensorType": 1},
        )
    finally:
        logging.disable(previous_disable)

    max_length = model_max_tokens(
        model_type=config.model_type,
        max_position_embeddings=config.max_position_embeddings,
        pad_token_id=config.pad_token_id,
        tokenizer_max_length=tokenizer.model_max_length,
    )
    metadata = {
        "format_version": FORMAT_VERSION,
        "model_type": config.model_type,
        "labels": [config.id2label[index] for index in range(config.num_labels)],
        "inputs": input_names,
        "max_length": max_length,
        "pad_token_id": tokenizer.pad_token_id,
        "opset": OPSET,
        "fused": {name: count for name, count in fused.items() if count},
        "torch": torch.__version__,
    }
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    log(f"Exported to ONNX fp32 and int8 in {time.monotonic() - started:.0f} s.")
