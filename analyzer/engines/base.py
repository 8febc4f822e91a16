"""What every engine shares: the Engine protocol, a Prediction, and the windowed base class.

A runtime (PyTorch, ONNX Runtime) subclasses WindowedEngine and says only how it cuts a text
into windows and how it scores them; reading long texts in windows, keeping each label's
maximum and gathering concurrent requests into one model call happen here.
"""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from analyzer.engines.batch_costs import CallCost, costs_fit
from analyzer.engines.microbatcher import MicroBatcher, Overloaded, Priority
from analyzer.engines.runtime import Runtime
from analyzer.windows import max_over_windows


class ModelUnavailable(RuntimeError):
    """The configured model could not be loaded and the fallback is not allowed."""


@dataclass(frozen=True)
class Prediction:
    """Scores of one text: label -> probability, in the model's label order."""

    scores: dict[str, float]
    windows: int = 1


class Engine(Protocol):
    runtime: Runtime  # which code path answers
    model: str  # which model answers, as the user configured it
    labels: tuple[str, ...]
    fallback: bool

    def predict(
        self,
        texts: Sequence[str],
        *,
        priority: Priority = Priority.ANALYSIS,
        wait: float | None = None,
    ) -> list[Prediction]:
        """Return the scores of each text.

        Lower-priority texts yield the model to analyses; with `wait`, texts that could not
        start within that many seconds raise Overloaded. Engines without a queue may ignore both.
        """
        ...


@dataclass(frozen=True)
class BatchLimits:
    """How much a worker's concurrent requests may be gathered into one model call."""

    max_texts: int = 8
    max_tokens: int = 512
    max_wait_seconds: float = 0.002
    # None: measured at start-up by WindowedEngine.calibrate().
    max_padding_tokens: int | None = None
    # Explanations are refused while analyses kept the model busy more than this share of the
    # last second.
    max_busy_share: float = 0.8


# Texts of these many words, each scored alone a few times, measure what a call and a token
# cost. Short ones: the fixed cost is a few tokens' worth, and a long text's noise would swamp it.
CALIBRATION_WORDS = (1, 4, 12, 30)
CALIBRATION_REPEATS = 5


class WindowedEngine:
    """Long texts read in windows, each label's maximum kept, concurrent requests batched.

    A runtime says how it cuts a text into windows (`_windows`), how many tokens a window costs
    (`_window_tokens`) and how it scores windows (`_score`: one list of sigmoids per window, in
    label order).
    """

    runtime: Runtime
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
                max_busy_share=batch.max_busy_share,
                name=f"{self.runtime}-batcher",
            )
            if batch.max_padding_tokens is not None:
                self.batcher.max_padding_tokens = batch.max_padding_tokens

    def _windows(self, text: str) -> list[Any]:
        raise NotImplementedError

    def _window_tokens(self, window: Any) -> int:
        raise NotImplementedError

    def _score(self, windows: Sequence[Any]) -> list[list[float]]:
        raise NotImplementedError

    def calibrate(self) -> CallCost:
        """Time a few model calls and return what a call and a token cost on this machine."""
        windows = [self._windows(" ".join(["the"] * words))[0] for words in CALIBRATION_WORDS]
        samples = []
        # Round after round of every size, so a spell of load elsewhere slows all sizes alike.
        for _repeat in range(CALIBRATION_REPEATS):
            for window in windows:
                started = time.perf_counter()
                self._score([window])
                samples.append((self._window_tokens(window), time.perf_counter() - started))
        # The fastest of the repeats: the others waited for something else on the machine.
        fastest: dict[int, float] = {}
        for tokens, seconds in samples:
            fastest[tokens] = min(seconds, fastest.get(tokens, seconds))
        return costs_fit(samples=list(fastest.items()))

    def predict(
        self,
        texts: Sequence[str],
        *,
        priority: Priority = Priority.ANALYSIS,
        wait: float | None = None,
    ) -> list[Prediction]:
        """Return the scores of each text, reading long texts in windows."""
        if self.batcher is None:
            windows_per_text = [self._windows(text) for text in texts]
            # Without a queue there is no priority, but a request still need not wait forever.
            if not self._lock.acquire(timeout=-1 if wait is None else wait):
                raise Overloaded(f"the model stayed busy for {wait} s")
            try:
                scores = self._score([w for windows in windows_per_text for w in windows])
            finally:
                self._lock.release()
        elif priority == Priority.ANALYSIS and wait is None:
            with self.batcher.incoming() as submit:
                windows_per_text = [self._windows(text) for text in texts]
                scores = submit([w for windows in windows_per_text for w in windows])
        else:
            windows_per_text = [self._windows(text) for text in texts]
            scores = self.batcher.submit(
                [w for windows in windows_per_text for w in windows], priority=priority, wait=wait
            )
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
