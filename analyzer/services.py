"""What toxmon does with a text: score it with the engine, decide the verdict, store it."""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from analyzer import metrics
from analyzer.engines import loader
from analyzer.engines.base import Engine, ModelUnavailable, Prediction
from analyzer.engines.microbatcher import Overloaded, Priority
from analyzer.models import Analysis, Source, Verdict

logger = logging.getLogger(__name__)


class PredictionFailed(RuntimeError):
    """The engine could not score the text; nothing was stored."""


class ModelBusy(PredictionFailed):
    """Lower-priority work waited too long for the model, busy with analyses; nothing was scored."""


@dataclass(frozen=True)
class Judgement:
    verdict: str
    top_label: str
    max_score: float


def judgement_from_scores(scores: Mapping[str, float], *, threshold: float) -> Judgement:
    """Return the verdict: toxic when any label scores at or above the threshold."""
    if not scores:
        raise ValueError("no scores to judge")
    # On a tie the label that comes first in the model's order wins, so verdicts are stable.
    top_label = max(scores, key=lambda label: scores[label])
    max_score = scores[top_label]
    verdict = Verdict.TOXIC if max_score >= threshold else Verdict.NOT_TOXIC
    return Judgement(verdict=verdict, top_label=top_label, max_score=max_score)


def texts_predict(
    *,
    texts: Sequence[str],
    priority: Priority = Priority.ANALYSIS,
    wait: float | None = None,
) -> tuple[Engine, list[Prediction], float]:
    """Score the texts in one engine call; return the engine, its predictions and the seconds.

    Every caller (analyses, explanations) gets the same failure handling: the error is logged,
    counted in toxmon_prediction_failures_total and raised as PredictionFailed. Work of a lower
    priority that waited `wait` seconds unserved raises ModelBusy, which is not a failure.
    """
    try:
        engine = loader.engine_get()
    except ModelUnavailable as error:
        raise PredictionFailed(str(error)) from error
    started = time.perf_counter()
    try:
        predictions = engine.predict(list(texts), priority=priority, wait=wait)
    except Overloaded as error:
        raise ModelBusy(str(error)) from error
    except Exception as error:
        metrics.prediction_failed(engine=engine.runtime)
        logger.exception("The %s engine failed to score %d text(s)", engine.runtime, len(texts))
        raise PredictionFailed(f"the {engine.runtime} engine failed: {error}") from error
    return engine, predictions, time.perf_counter() - started


def analyses_build(*, texts: Sequence[str], source: str = Source.FORM) -> list[Analysis]:
    """Score the texts in one engine call and return validated, unsaved analyses."""
    engine, predictions, seconds = texts_predict(texts=texts)
    threshold = settings.TOXMON_THRESHOLD
    analyses = []
    for text, prediction in zip(texts, predictions, strict=True):
        judgement = judgement_from_scores(prediction.scores, threshold=threshold)
        analysis = Analysis(
            text=text,
            scores=prediction.scores,
            verdict=judgement.verdict,
            top_label=judgement.top_label,
            max_score=judgement.max_score,
            threshold=threshold,
            engine=engine.runtime,
            model_name=engine.model,
            latency_ms=round(seconds * 1000, 2),
            windows=prediction.windows,
            source=source,
        )
        analysis.full_clean()
        analyses.append(analysis)
    metrics.prediction_observed(
        engine=engine.runtime,
        seconds=seconds,
        verdicts=[analysis.verdict for analysis in analyses],
        scores=[prediction.scores for prediction in predictions],
        windows=[prediction.windows for prediction in predictions],
    )
    return analyses


def analysis_create(*, text: str, source: str = Source.FORM) -> Analysis:
    """Score one text and store it; nothing is stored when scoring fails."""
    [analysis] = analyses_create(texts=[text], source=source)
    return analysis


def analyses_create(*, texts: Sequence[str], source: str) -> list[Analysis]:
    """Score the texts in one engine call and store them all, or none when scoring fails."""
    analyses = analyses_build(texts=texts, source=source)
    analyses_save(analyses=analyses)
    return analyses


def analyses_save(*, analyses: Sequence[Analysis]) -> None:
    """Store analyses made by analyses_build, all of them or none."""
    with transaction.atomic():
        analyses_insert(analyses=analyses)


def analyses_insert(*, analyses: Sequence[Analysis]) -> None:
    """Insert analyses inside the caller's transaction; counted once it commits.

    Every stored analysis goes through here, so the stored count is kept in one place.
    """
    Analysis.objects.bulk_create(analyses)
    transaction.on_commit(lambda: metrics.analyses_stored(count=len(analyses)))
