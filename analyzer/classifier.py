"""Load the toxicity model once per process and score texts with it.

`classifier_get()` is the only way in: it loads the configured model (toxic-bert by default)
the first time it is called and returns the same engine afterwards. When the weights cannot be
had, it falls back, loudly, to the offline engine shipped in `alt-profanity-check`, unless
TOXMON_REQUIRE_MODEL is set, in which case it raises.
"""

import functools
import importlib.metadata
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from analyzer import metrics
from analyzer.batching import MicroBatcher
from analyzer.windows import max_over_windows, window_spans

logger = logging.getLogger(__name__)

# Texts per forward pass: enough to use both cores, small enough to keep padding waste low.
PIPELINE_BATCH_SIZE = 8


class ModelUnavailable(RuntimeError):
    """The configured model could not be loaded and the fallback is not allowed."""


@dataclass(frozen=True)
class Prediction:
    """Scores of one text: label -> probability, in the model's label order."""

    scores: dict[str, float]
    windows: int = 1


class Engine(Protocol):
    engine: str  # which code path answered, e.g. "transformers" or "profanity-check"
    model: str  # which model answered, as the user configured it
    labels: tuple[str, ...]
    fallback: bool

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class BatchLimits:
    """How much a worker's concurrent requests may be gathered into one model call."""

    max_texts: int = 8
    max_tokens: int = 512
    max_wait_seconds: float = 0.002


class WindowedEngine:
    """What every model runtime shares: long texts read in windows, each label's maximum kept,
    and concurrent requests scored in batches when `batch` is given.

    A runtime says how it cuts a text into windows (`_windows`), how many tokens a window costs
    (`_window_tokens`) and how it scores windows (`_score`: one list of sigmoids per window, in
    label order).
    """

    engine: str
    model: str
    labels: tuple[str, ...]
    fallback = False

    def __init__(self, *, batch: BatchLimits | None = None) -> None:
        # Without batching, one model call at a time: each call already uses every core.
        self._lock = threading.Lock()
        self.batcher: MicroBatcher[Any, list[float]] | None = None
        if batch is not None:
            self.batcher = MicroBatcher(
                self._score,
                cost=self._window_tokens,
                max_items=batch.max_texts,
                max_tokens=batch.max_tokens,
                max_wait=batch.max_wait_seconds,
                name=f"{self.engine}-batcher",
            )

    def _windows(self, text: str) -> list[Any]:
        raise NotImplementedError

    def _window_tokens(self, window: Any) -> int:
        raise NotImplementedError

    def _score(self, windows: Sequence[Any]) -> list[list[float]]:
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if self.batcher is None:
            windows_per_text = [self._windows(text) for text in texts]
            with self._lock:
                scores = self._score([w for windows in windows_per_text for w in windows])
        else:
            with self.batcher.incoming() as submit:
                windows_per_text = [self._windows(text) for text in texts]
                scores = submit([w for windows in windows_per_text for w in windows])
        predictions = []
        position = 0
        for windows in windows_per_text:
            window_scores = [
                dict(zip(self.labels, label_scores, strict=True))
                for label_scores in scores[position : position + len(windows)]
            ]
            position += len(windows)
            predictions.append(
                Prediction(scores=max_over_windows(window_scores), windows=len(windows))
            )
        return predictions


class TransformersEngine(WindowedEngine):
    """toxic-bert (or any multi-label text classifier) through a transformers pipeline."""

    engine = "transformers"

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
        self.pipeline = pipeline(
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
        model_positions = min(self.tokenizer.model_max_length, config.max_position_embeddings)
        self.max_tokens = model_positions - self.tokenizer.num_special_tokens_to_add()
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
        spans = window_spans(offsets, max_tokens=self.max_tokens)
        if len(spans) <= 1:
            return [(text, len(offsets) + 2)]
        return [(text[start:end], self.max_tokens + 2) for start, end in spans]

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


class ProfanityCheckEngine:
    """The offline fallback: alt-profanity-check's linear model, one "offensive" probability."""

    engine = "profanity-check"
    fallback = True
    labels = ("offensive",)

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob
        self.model = f"alt-profanity-check {importlib.metadata.version('alt-profanity-check')}"

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities = self._predict_prob(list(texts))
        return [Prediction(scores={"offensive": float(p)}) for p in probabilities]


def model_source(model: str, model_dir: Path) -> str | None:
    """Return where the weights of `model` lie on this machine, or None if nowhere.

    Never downloads: the server must not reach out to a hub while serving.
    """
    if Path(model).is_dir():
        return model
    fetched = model_dir / model.replace("/", "--")
    if (fetched / "config.json").is_file():
        return str(fetched)
    return None


def runtime_choose(configured: str, source: str) -> str:
    """Return the runtime to serve: the configured one, or for "auto" the fastest one present.

    toxmon/settings.py has already refused any value but auto and the three runtimes.
    """
    from analyzer.onnx_export import export_is_complete, onnx_folder

    if configured == "auto":
        return "onnx-int8" if export_is_complete(onnx_folder(Path(source))) else "torch"
    return configured


def runtime_load(source: str, *, model: str) -> "WindowedEngine":
    """Load the model in source on the runtime TOXMON_RUNTIME asks for."""
    runtime = runtime_choose(settings.TOXMON_RUNTIME, source)
    batch = (
        BatchLimits(
            max_texts=settings.TOXMON_MICROBATCH_MAX_TEXTS,
            max_tokens=settings.TOXMON_MICROBATCH_MAX_TOKENS,
            max_wait_seconds=settings.TOXMON_MICROBATCH_WAIT_MS / 1000,
        )
        if settings.TOXMON_MICROBATCH
        else None
    )
    threads = settings.TOXMON_INTRA_OP_THREADS
    if runtime == "torch":
        return TransformersEngine(source, model=model, intra_op_threads=threads, batch=batch)
    # Imported here so a server on the torch runtime never needs onnxruntime, and the other way.
    from analyzer.onnx_engine import OnnxEngine
    from analyzer.onnx_export import export_is_complete, onnx_folder

    folder = onnx_folder(Path(source))
    if not export_is_complete(folder):
        raise ModelUnavailable(
            f"TOXMON_RUNTIME={runtime} but {folder} holds no ONNX export; "
            "run `python manage.py fetch_model`"
        )
    return OnnxEngine(folder, model=model, runtime=runtime, intra_op_threads=threads, batch=batch)


def engine_load() -> Engine:
    """Load the configured model, or the fallback engine when it cannot be had."""
    started = time.perf_counter()
    engine: Engine
    try:
        source = model_source(settings.TOXMON_MODEL, settings.TOXMON_MODEL_DIR)
        if source is None:
            raise ModelUnavailable(
                f"the weights of {settings.TOXMON_MODEL} are not on this machine "
                f"(looked in {settings.TOXMON_MODEL_DIR}); run `python manage.py fetch_model`"
            )
        engine = runtime_load(source, model=settings.TOXMON_MODEL)
    except Exception as error:
        if settings.TOXMON_REQUIRE_MODEL:
            raise ModelUnavailable(
                f"TOXMON_REQUIRE_MODEL is set and {settings.TOXMON_MODEL} cannot be loaded: {error}"
            ) from error
        logger.warning(
            "FALLBACK ENGINE ACTIVE: %s cannot be loaded (%s). Serving alt-profanity-check's "
            "single 'offensive' score instead. Set TOXMON_REQUIRE_MODEL=1 to refuse to start.",
            settings.TOXMON_MODEL,
            error,
        )
        engine = ProfanityCheckEngine()
    seconds = time.perf_counter() - started
    logger.info("Loaded %s engine (%s) in %.2f s", engine.engine, engine.model, seconds)
    metrics.engine_loaded(engine, seconds=seconds)
    return engine


@functools.cache
def classifier_get() -> Engine:
    """Return this process's engine, loading it on first use."""
    return engine_load()
