"""What toxmon does with a text: score it with the engine, decide the verdict and the action of
the label policy, store it (and queue the webhooks it calls for)."""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from analyzer import db_retry, metrics, policies, webhooks
from analyzer.checkpoints import is_identity_label
from analyzer.engines import loader
from analyzer.engines.base import Engine, ModelUnavailable, Prediction
from analyzer.engines.microbatcher import Overloaded, Priority
from analyzer.models import Action, Analysis, Source, Verdict
from analyzer.normalization import normalized
from analyzer.policies import Policy

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
    """Return the verdict: toxic when any toxicity label scores at or above the threshold.

    Identity labels (unbiased-toxic-roberta's "muslim", "female" ...) say which identity a text
    mentions, not that it is toxic, so they never make the verdict or the top label.
    """
    if not scores:
        raise ValueError("no scores to judge")
    toxicity = {label: score for label, score in scores.items() if not is_identity_label(label)}
    if not toxicity:
        raise ValueError("no toxicity labels to judge")
    # On a tie the label that comes first in the model's order wins, so verdicts are stable.
    top_label = max(toxicity, key=lambda label: toxicity[label])
    max_score = toxicity[top_label]
    verdict = Verdict.TOXIC if max_score >= threshold else Verdict.NOT_TOXIC
    return Judgement(verdict=verdict, top_label=top_label, max_score=max_score)


@dataclass(frozen=True)
class ActionDecision:
    action: str
    # The labels at or above their review threshold: what made the action.
    labels: tuple[str, ...]


def action_from_scores(scores: Mapping[str, float], *, policy: Policy) -> ActionDecision:
    """Return the strictest action any toxicity label's score reaches under the policy.

    Identity labels say which identity a text mentions, so they never call for an action.
    """
    blocking = []
    reviewing = []
    for label, score in scores.items():
        if is_identity_label(label):
            continue
        thresholds = policy.for_label(label)
        if score >= thresholds.block:
            blocking.append(label)
        elif score >= thresholds.review:
            reviewing.append(label)
    labels = tuple(label for label in scores if label in blocking or label in reviewing)
    if blocking:
        return ActionDecision(action=Action.BLOCK, labels=labels)
    if reviewing:
        return ActionDecision(action=Action.REVIEW, labels=labels)
    return ActionDecision(action=Action.ALLOW, labels=())


def texts_predict(
    *,
    texts: Sequence[str],
    priority: Priority = Priority.ANALYSIS,
    wait: float | None = None,
) -> tuple[Engine, list[Prediction], float]:
    """Score the texts in one engine call; return the engine, its predictions and the seconds.

    Each text is normalized first, so a disguised word scores as the word it hides. Every
    caller (analyses, explanations, the APIs) gets the same failure handling: the error is
    logged, counted in toxmon_prediction_failures_total and raised as PredictionFailed. Work of
    a lower priority that waited `wait` seconds unserved raises ModelBusy, which is not a
    failure.
    """
    return _predict(
        texts=[normalized(text=text).text for text in texts], priority=priority, wait=wait
    )


def _predict(
    *, texts: Sequence[str], priority: Priority = Priority.ANALYSIS, wait: float | None = None
) -> tuple[Engine, list[Prediction], float]:
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
    """Score the texts in one engine call and return validated, unsaved analyses.

    The model reads each text normalized; the analysis keeps the text as it was sent.
    """
    forms = [normalized(text=text) for text in texts]
    engine, predictions, seconds = _predict(texts=[form.text for form in forms])
    return analyses_from_predictions(
        texts=texts,
        engine=engine,
        predictions=predictions,
        seconds=seconds,
        source=source,
        changed=[form.changed for form in forms],
    )


def analyses_from_predictions(
    *,
    texts: Sequence[str],
    engine: Engine,
    predictions: Sequence[Prediction],
    seconds: float,
    source: str,
    changed: Sequence[bool] | None = None,
) -> list[Analysis]:
    """Return validated, unsaved analyses of texts from one engine call, counted in the metrics.

    A caller that scored more in that call than it keeps (Perspective's sentences) passes only
    the texts it keeps and their predictions, so only those are judged and counted. `changed`
    says whether normalization changed each text, when the caller already knows.
    """
    if changed is None:
        changed = [normalized(text=text).changed for text in texts]
    threshold = settings.TOXMON_THRESHOLD
    policy = policies.policy_current(labels=engine.labels)
    analyses = []
    for text, was_changed, prediction in zip(texts, changed, predictions, strict=True):
        judgement = judgement_from_scores(prediction.scores, threshold=threshold)
        decision = action_from_scores(prediction.scores, policy=policy)
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
            normalized=was_changed,
            source=source,
            action=decision.action,
            policy_version=policy.row,
        )
        # The policy version was just read from the database; checking it again costs a query.
        analysis.full_clean(exclude=["policy_version"])
        analyses.append(analysis)
    metrics.prediction_observed(
        engine=engine.runtime,
        seconds=seconds,
        verdicts=[analysis.verdict for analysis in analyses],
        scores=[prediction.scores for prediction in predictions],
        windows=[prediction.windows for prediction in predictions],
        actions=[analysis.action for analysis in analyses],
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
    """Store analyses made by analyses_build, all of them or none.

    A busy database is tried again for a few seconds; after that db_retry.DatabaseBusy is
    raised, with nothing stored, for the request to answer 503.
    """

    def insert_all() -> None:
        for analysis in analyses:
            analysis.pk = None  # a rolled-back try may have numbered them already
        with transaction.atomic():
            analyses_insert(analyses=analyses)

    db_retry.retrying(insert_all, operation="analyses_save", policy=db_retry.WEB)


def analyses_insert(*, analyses: Sequence[Analysis]) -> None:
    """Insert analyses inside the caller's transaction; counted once it commits.

    Every stored analysis goes through here, so the stored count is kept in one place, and so
    are the webhooks: their deliveries are written in the same transaction and queued after it.
    """
    Analysis.objects.bulk_create(analyses)
    delivery_ids = webhooks.deliveries_create(analyses=analyses)
    transaction.on_commit(lambda: metrics.analyses_stored(count=len(analyses)))
    webhooks.deliveries_enqueue_on_commit(delivery_ids=delivery_ids)
