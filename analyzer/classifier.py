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
from typing import Protocol

from django.conf import settings

from analyzer import metrics
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


class TransformersEngine:
    """toxic-bert (or any multi-label text classifier) through a transformers pipeline."""

    engine = "transformers"
    fallback = False

    def __init__(self, source: str, *, model: str) -> None:
        from transformers import pipeline

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
        # The Rust tokenizer refuses concurrent use ("Already borrowed") and torch already uses
        # every core for one batch, so one prediction at a time per process.
        self._lock = threading.Lock()

    def windows(self, text: str) -> list[str]:
        """Return the overlapping pieces of text that each fit the model."""
        encoding = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        spans = window_spans(encoding["offset_mapping"], max_tokens=self.max_tokens)
        if len(spans) <= 1:
            return [text]
        return [text[start:end] for start, end in spans]

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        with self._lock:
            pieces_per_text = [self.windows(text) for text in texts]
            pieces = [piece for text_pieces in pieces_per_text for piece in text_pieces]
            outputs = self.pipeline(pieces, batch_size=PIPELINE_BATCH_SIZE)
        predictions = []
        position = 0
        for text_pieces in pieces_per_text:
            window_outputs = outputs[position : position + len(text_pieces)]
            position += len(text_pieces)
            window_scores = [
                {label: by_label[label] for label in self.labels}
                for by_label in (
                    {item["label"]: float(item["score"]) for item in output}
                    for output in window_outputs
                )
            ]
            predictions.append(
                Prediction(scores=max_over_windows(window_scores), windows=len(text_pieces))
            )
        return predictions


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
        engine = TransformersEngine(source, model=settings.TOXMON_MODEL)
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
