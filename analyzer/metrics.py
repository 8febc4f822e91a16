"""toxmon's own Prometheus metrics and the functions that record them.

analyzer/metrics_view.py serves them. Under gunicorn every worker writes its values to
PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py) and /metrics adds them up, so the gauges say
how to combine workers: the largest value among the workers alive ("livemax"), forgetting
workers that exited.
"""

from collections.abc import Sequence

from prometheus_client import Counter, Gauge, Histogram

from analyzer.models import Action, ReviewDecision, Verdict

# Latency buckets from a fast ONNX batch (~10 ms) to a slow 512-token torch window (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
WINDOW_BUCKETS = (1, 2, 3, 5, 10, 20)

INFERENCE_SECONDS = Histogram(
    "toxmon_inference_duration_seconds",
    "Time the engine took to score one request's texts.",
    ["engine"],
    buckets=LATENCY_BUCKETS,
)
TEXTS_ANALYZED = Counter("toxmon_texts_analyzed_total", "Texts scored, by verdict.", ["verdict"])
TEXT_ACTIONS = Counter(
    "toxmon_text_actions_total",
    "Texts scored, by the action their label policy decided (allow, review, block).",
    ["action"],
)
REVIEWS = Counter("toxmon_reviews_total", "Reviewers' decisions, by decision.", ["decision"])
LABEL_SCORE = Histogram(
    "toxmon_label_score", "Scores given to texts, by label.", ["label"], buckets=SCORE_BUCKETS
)
WINDOWS_PER_TEXT = Histogram(
    "toxmon_windows_per_text",
    "Model windows needed per text (more than one for texts over 512 tokens).",
    buckets=WINDOW_BUCKETS,
)
MODEL_LOAD_SECONDS = Gauge(
    "toxmon_model_load_seconds",
    "Seconds the last engine load took.",
    multiprocess_mode="livemax",
)
MODEL_INFO = Gauge(
    "toxmon_model_info",
    "The engine and model that answer (value 1).",
    ["engine", "model"],
    multiprocess_mode="livemax",
)
FALLBACK_ACTIVE = Gauge(
    "toxmon_fallback_active",
    "1 when the offline fallback engine answers instead of the configured model.",
    multiprocess_mode="livemax",
)
ANALYSES_STORED = Counter("toxmon_analyses_stored_total", "Analyses written to the database.")
PREDICTION_FAILURES = Counter(
    "toxmon_prediction_failures_total", "Predictions that raised an error.", ["engine"]
)
DATABASE_RETRIES = Counter(
    "toxmon_database_retries_total",
    "Transient database errors (locked, serialization failure, dropped connection) tried again.",
    ["operation"],
)
DATABASE_BUSY = Counter(
    "toxmon_database_busy_total",
    "Operations given up because the database stayed busy through every retry "
    "(a web request answered 503; a batch task left for the watchdog to resume).",
    ["operation"],
)
BATCHER_PADDING_TOKENS = Gauge(
    "toxmon_batcher_max_padding_tokens",
    "Most padding tokens a text may add to a model call: measured at start-up or set.",
    multiprocess_mode="livemax",
)
BATCHER_CALL_SECONDS = Gauge(
    "toxmon_batcher_call_cost_seconds",
    "Fixed cost of one model call, measured at start-up.",
    multiprocess_mode="livemax",
)
BATCHER_TOKEN_SECONDS = Gauge(
    "toxmon_batcher_token_cost_seconds",
    "Cost of one more token in a model call, measured at start-up.",
    multiprocess_mode="livemax",
)
EXPLANATIONS = Counter(
    "toxmon_explanations_total",
    "Explanations asked for, by outcome: done, busy (the model was taken by analyses), failed.",
    ["outcome"],
)


# Series that exist at 0 from the start, so rates and ratios over them are 0, not missing.
for verdict in Verdict.values:
    TEXTS_ANALYZED.labels(verdict=verdict)
for action in Action.values:
    TEXT_ACTIONS.labels(action=action)
for decision in ReviewDecision.values:
    REVIEWS.labels(decision=decision)
for outcome in ("done", "busy", "failed"):
    EXPLANATIONS.labels(outcome=outcome)


def engine_loaded(
    *, runtime: str, model: str, labels: Sequence[str], fallback: bool, seconds: float
) -> None:
    """Record which engine a process loaded and how long it took."""
    MODEL_LOAD_SECONDS.set(seconds)
    MODEL_INFO.labels(engine=runtime, model=model).set(1)
    FALLBACK_ACTIVE.set(1 if fallback else 0)
    # Series that exist from the load on, so panels and alerts see 0 before the first text.
    INFERENCE_SECONDS.labels(engine=runtime)
    PREDICTION_FAILURES.labels(engine=runtime)
    for label in labels:
        LABEL_SCORE.labels(label=label)


def prediction_observed(
    *,
    engine: str,
    seconds: float,
    verdicts: Sequence[str],
    scores: Sequence[dict[str, float]],
    windows: Sequence[int],
    actions: Sequence[str],
) -> None:
    """Record one successful call of the engine."""
    INFERENCE_SECONDS.labels(engine=engine).observe(seconds)
    for action in actions:
        TEXT_ACTIONS.labels(action=action).inc()
    for verdict, text_scores, text_windows in zip(verdicts, scores, windows, strict=True):
        TEXTS_ANALYZED.labels(verdict=verdict).inc()
        WINDOWS_PER_TEXT.observe(text_windows)
        for label, score in text_scores.items():
            LABEL_SCORE.labels(label=label).observe(score)


def batcher_configured(
    *, padding_tokens: int, call_seconds: float | None = None, token_seconds: float | None = None
) -> None:
    """Record the micro-batcher's padding rule and the model costs it was measured from."""
    BATCHER_PADDING_TOKENS.set(padding_tokens)
    if call_seconds is not None and token_seconds is not None:
        BATCHER_CALL_SECONDS.set(call_seconds)
        BATCHER_TOKEN_SECONDS.set(token_seconds)


def explanation_finished(*, outcome: str) -> None:
    """Record how an explanation ended: done, busy or failed."""
    EXPLANATIONS.labels(outcome=outcome).inc()


def prediction_failed(*, engine: str) -> None:
    """Record one call of the engine that raised."""
    PREDICTION_FAILURES.labels(engine=engine).inc()


def analyses_stored(*, count: int) -> None:
    """Record analyses committed to the database."""
    ANALYSES_STORED.inc(count)


def database_retried(*, operation: str) -> None:
    """Record a transient database error that is about to be tried again."""
    DATABASE_RETRIES.labels(operation=operation).inc()


def database_busy(*, operation: str) -> None:
    """Record an operation given up on a database that stayed busy."""
    DATABASE_BUSY.labels(operation=operation).inc()


def reviews_recorded(*, decision: str, count: int) -> None:
    """Record reviewers' decisions committed to the database."""
    REVIEWS.labels(decision=decision).inc(count)
