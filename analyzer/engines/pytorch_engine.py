"""Score texts with PyTorch through a transformers pipeline: the reference runtime.

Imported only when TOXMON_RUNTIME asks for torch (or no ONNX export exists), so a server on
ONNX Runtime never loads torch.
"""

import threading
from collections.abc import Sequence
from typing import Any

from analyzer.engines.base import BatchLimits, WindowedEngine
from analyzer.engines.runtime import Runtime
from analyzer.windows import RETOKENIZE_SLACK, model_max_tokens, window_spans

# Texts per forward pass: enough to use both cores, small enough to keep padding waste low.
PIPELINE_BATCH_SIZE = 8


class TorchEngine(WindowedEngine):
    """A Detoxify model (or any multi-label text classifier) through a transformers pipeline."""

    runtime = Runtime.TORCH

    def __init__(
        self,
        source: str,
        *,
        model: str,
        intra_op_threads: int = 0,
        batch: BatchLimits | None = None,
    ) -> None:
        import torch
        from transformers import pipeline

        if intra_op_threads:
            torch.set_num_threads(intra_op_threads)
        self.model = model
        self.pipeline: Any = pipeline(
            "text-classification",
            model=source,
            tokenizer=source,
            top_k=None,
            # Each label is its own yes/no question, so scores are independent sigmoids.
            function_to_apply="sigmoid",
            truncation=True,
            device="cpu",
        )
        config = self.pipeline.model.config
        self.labels = tuple(config.id2label[index] for index in range(config.num_labels))
        self.tokenizer = self.pipeline.tokenizer
        # Each tokenizer adds its own special tokens ([CLS] [SEP] for BERT, <s> </s> for RoBERTa).
        self.special_tokens = self.tokenizer.num_special_tokens_to_add()
        window_tokens = model_max_tokens(
            model_type=config.model_type,
            max_position_embeddings=config.max_position_embeddings,
            pad_token_id=config.pad_token_id,
            tokenizer_max_length=self.tokenizer.model_max_length,
        )
        # The pipeline truncates to this, so no window, however it re-tokenizes, runs past
        # RoBERTa's position table (whose hub tokenizer sets no maximum).
        self.tokenizer.model_max_length = window_tokens
        self.max_tokens = window_tokens - self.special_tokens
        # The Rust tokenizer refuses concurrent use ("Already borrowed"): the transformers
        # wrapper reconfigures it on every call, so cutting windows and scoring take turns.
        self._tokenizer_lock = threading.Lock()
        super().__init__(batch=batch)

    def windows(self, text: str) -> list[str]:
        """Return the overlapping pieces of text that each fit the model."""
        return [piece for piece, _tokens in self._windows(text)]

    def _windows(self, text: str) -> list[tuple[str, int]]:
        with self._tokenizer_lock:
            encoding = self.tokenizer(
                text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
        offsets = encoding["offset_mapping"]
        if len(offsets) <= self.max_tokens:
            return [(text, len(offsets) + self.special_tokens)]
        spans = window_spans(offsets, max_tokens=self.max_tokens - RETOKENIZE_SLACK)
        window_tokens = self.max_tokens + self.special_tokens
        return [(text[start:end], window_tokens) for start, end in spans]

    def _window_tokens(self, window: tuple[str, int]) -> int:
        return window[1]

    def _score(self, windows: Sequence[tuple[str, int]]) -> list[list[float]]:
        pieces = [piece for piece, _tokens in windows]
        with self._tokenizer_lock:
            outputs = self.pipeline(pieces, batch_size=PIPELINE_BATCH_SIZE)
        return [
            [by_label[label] for label in self.labels]
            for by_label in (
                {item["label"]: float(item["score"]) for item in output} for output in outputs
            )
        ]
