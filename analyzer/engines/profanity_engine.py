"""The offline fallback engine: alt-profanity-check's linear model, one "offensive" score."""

import importlib.metadata
from collections.abc import Sequence

from analyzer.engines.base import Prediction
from analyzer.engines.microbatcher import Priority
from analyzer.engines.runtime import Runtime


class ProfanityCheckEngine:
    """Served when the configured model cannot be loaded, and said so on every page."""

    runtime = Runtime.PROFANITY_CHECK
    fallback = True
    labels: tuple[str, ...] = ("offensive",)

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob
        self.model = f"alt-profanity-check {importlib.metadata.version('alt-profanity-check')}"

    def predict(
        self,
        texts: Sequence[str],
        *,
        priority: Priority = Priority.ANALYSIS,
        wait: float | None = None,
    ) -> list[Prediction]:
        """Return the "offensive" probability of each text (a linear model: nothing to queue)."""
        probabilities = self._predict_prob(list(texts))
        return [Prediction(scores={"offensive": float(p)}) for p in probabilities]
