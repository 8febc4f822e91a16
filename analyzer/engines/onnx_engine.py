"""Serve the model's ONNX export with ONNX Runtime: tokenizers + onnxruntime, no torch.

`fetch_model` writes the export (onnx_export.py). This module must not import torch or
transformers, directly or through anything it imports: a server on this runtime starts in about
a second and stays a few hundred megabytes smaller without them.
"""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Encoding, Tokenizer

from analyzer.engines.base import BatchLimits, WindowedEngine
from analyzer.engines.onnx_layout import FP32_FILE, INT8_FILE, METADATA_FILE, TOKENIZER_FILE
from analyzer.engines.runtime import Runtime
from analyzer.windows import RETOKENIZE_SLACK, window_spans

MODEL_FILES = {Runtime.ONNX_INT8: INT8_FILE, Runtime.ONNX_FP32: FP32_FILE}


class OnnxEngine(WindowedEngine):
    """The model's fused ONNX graph, fp32 or int8, on ONNX Runtime's CPU provider."""

    def __init__(
        self,
        folder: Path,
        *,
        model: str,
        runtime: Runtime = Runtime.ONNX_INT8,
        intra_op_threads: int = 0,
        batch: BatchLimits | None = None,
    ) -> None:
        folder = Path(folder)
        self.runtime = Runtime(runtime)
        self.model = model
        metadata = json.loads((folder / METADATA_FILE).read_text())
        self.labels = tuple(metadata["labels"])
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # Windows are cut by this class and padded per batch, never by the tokenizer; the
        # tokenizer is never changed after this, so request threads may share it.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        # Each tokenizer adds its own special tokens ([CLS] [SEP]; <s> </s>) to every window.
        self.max_tokens = metadata["max_length"] - self.tokenizer.num_special_tokens_to_add(False)
        # RoBERTa pads with 1, BERT with 0; RoBERTa's positions skip its padding id, so padding
        # with any other id would shift them.
        self.pad_token_id = metadata["pad_token_id"]

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = intra_op_threads  # 0: one thread per core
        # An encoder is one chain of layers: nothing for a second pool to run in parallel.
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads would take the cores from the request threads between batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILES[runtime]),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        # RoBERTa and XLM-R take no token_type_ids: feed only what the graph asks for.
        self.input_names = {model_input.name for model_input in self.session.get_inputs()}
        super().__init__(batch=batch)

    def _windows(self, text: str) -> list[Encoding]:
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) <= self.max_tokens:
            return [self.tokenizer.post_process(encoding)]
        spans = window_spans(encoding.offsets, max_tokens=self.max_tokens - RETOKENIZE_SLACK)
        windows = []
        for start, end in spans:
            piece = self.tokenizer.encode(text[start:end], add_special_tokens=False)
            piece.truncate(self.max_tokens)
            windows.append(self.tokenizer.post_process(piece))
        return windows

    def _window_tokens(self, window: Encoding) -> int:
        return len(window.ids)

    def _score(self, windows: Sequence[Encoding]) -> list[list[float]]:
        # Padded to the longest window of this batch only: cost grows with every padded token.
        longest = max(len(window.ids) for window in windows)
        shape = (len(windows), longest)
        feed = {
            "input_ids": np.full(shape, self.pad_token_id, dtype=np.int64),
            "attention_mask": np.zeros(shape, dtype=np.int64),
        }
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros(shape, dtype=np.int64)
        for row, window in enumerate(windows):
            length = len(window.ids)
            feed["input_ids"][row, :length] = window.ids
            feed["attention_mask"][row, :length] = 1
            if "token_type_ids" in feed:
                feed["token_type_ids"][row, :length] = window.type_ids
        [logits] = self.session.run(["logits"], feed)
        scores: list[list[float]] = (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).tolist()
        return scores
