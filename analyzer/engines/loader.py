"""Choose the engine this process serves, load it once, and hand out the same one afterwards.

`engine_get()` is the only way in. It loads the configured model (toxic-bert by default) on the
runtime TOXMON_RUNTIME asks for the first time it is called. When the weights cannot be had it
falls back, loudly, to the offline engine shipped in `alt-profanity-check`, unless
TOXMON_REQUIRE_MODEL is set, in which case it raises ModelUnavailable.
"""

import functools
import logging
import time
from pathlib import Path

from django.conf import settings

from analyzer import metrics
from analyzer.engines.base import BatchLimits, Engine, ModelUnavailable, WindowedEngine
from analyzer.engines.onnx_layout import export_is_complete, onnx_folder
from analyzer.engines.runtime import AUTO, Runtime

logger = logging.getLogger(__name__)


def model_folder(model: str, model_dir: Path) -> Path | None:
    """Return the folder that holds the weights of `model` on this machine, or None.

    Never downloads: the server must not reach out to a hub while serving.
    """
    # A folder counts only with a config: an empty mount point is no model (podman leaves one).
    if (Path(model) / "config.json").is_file():
        return Path(model)
    fetched = model_dir / model.replace("/", "--")
    if (fetched / "config.json").is_file():
        return fetched
    return None


def runtime_choose(configured: str, folder: Path) -> Runtime:
    """Return the runtime to serve: the configured one, or for "auto" the fastest one present.

    toxmon/settings.py has already refused any value but auto and the configurable runtimes.
    """
    if configured == AUTO:
        return Runtime.ONNX_INT8 if export_is_complete(onnx_folder(folder)) else Runtime.TORCH
    return Runtime(configured)


def batch_limits() -> BatchLimits | None:
    """Return how concurrent requests are gathered, or None when micro-batching is off."""
    if not settings.TOXMON_MICROBATCH:
        return None
    return BatchLimits(
        max_texts=settings.TOXMON_MICROBATCH_MAX_TEXTS,
        max_tokens=settings.TOXMON_MICROBATCH_MAX_TOKENS,
        max_wait_seconds=settings.TOXMON_MICROBATCH_WAIT_MS / 1000,
        max_padding_tokens=settings.TOXMON_MICROBATCH_MAX_PADDING,
        max_busy_share=settings.TOXMON_EXPLAIN_BUSY_SHARE,
    )


def batcher_calibrate(engine: WindowedEngine) -> None:
    """Set the batcher's padding rule from the model's measured costs, unless settings fix it."""
    if engine.batcher is None:
        return
    if settings.TOXMON_MICROBATCH_MAX_PADDING is not None:
        logger.info(
            "Micro-batcher: a text may add up to %d padding tokens (TOXMON_MICROBATCH_MAX_PADDING)",
            engine.batcher.max_padding_tokens,
        )
        metrics.batcher_configured(padding_tokens=engine.batcher.max_padding_tokens)
        return
    cost = engine.calibrate()
    engine.batcher.max_padding_tokens = cost.padding_tokens
    logger.info(
        "Micro-batcher: a model call costs %.1f ms + %.3f ms per token here, so a text may add "
        "up to %d padding tokens to a batch",
        cost.call_seconds * 1000,
        cost.token_seconds * 1000,
        cost.padding_tokens,
    )
    metrics.batcher_configured(
        padding_tokens=cost.padding_tokens,
        call_seconds=cost.call_seconds,
        token_seconds=cost.token_seconds,
    )


def runtime_load(folder: Path, *, model: str) -> WindowedEngine:
    """Load the model in folder on the runtime TOXMON_RUNTIME asks for."""
    runtime = runtime_choose(settings.TOXMON_RUNTIME, folder)
    threads = settings.TOXMON_INTRA_OP_THREADS
    # Each runtime is imported only when chosen, so an ONNX server never loads torch.
    engine: WindowedEngine
    if runtime == Runtime.TORCH:
        from analyzer.engines.pytorch_engine import TorchEngine

        engine = TorchEngine(
            str(folder), model=model, intra_op_threads=threads, batch=batch_limits()
        )
    else:
        export = onnx_folder(folder)
        if not export_is_complete(export):
            raise ModelUnavailable(
                f"TOXMON_RUNTIME={runtime} but {export} holds no ONNX export; "
                "run `python manage.py fetch_model`"
            )
        from analyzer.engines.onnx_engine import OnnxEngine

        engine = OnnxEngine(
            export, model=model, runtime=runtime, intra_op_threads=threads, batch=batch_limits()
        )
    batcher_calibrate(engine)
    return engine


def engine_load() -> Engine:
    """Load the configured model, or the fallback engine when it cannot be had."""
    started = time.perf_counter()
    engine: Engine
    try:
        folder = model_folder(settings.TOXMON_MODEL, settings.TOXMON_MODEL_DIR)
        if folder is None:
            raise ModelUnavailable(
                f"the weights of {settings.TOXMON_MODEL} are not on this machine "
                f"(looked in {settings.TOXMON_MODEL_DIR}); run `python manage.py fetch_model`"
            )
        engine = runtime_load(folder, model=settings.TOXMON_MODEL)
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
        from analyzer.engines.profanity_engine import ProfanityCheckEngine

        engine = ProfanityCheckEngine()
    seconds = time.perf_counter() - started
    logger.info("Loaded the %s engine (%s) in %.2f s", engine.runtime, engine.model, seconds)
    metrics.engine_loaded(
        runtime=engine.runtime,
        model=engine.model,
        labels=engine.labels,
        fallback=engine.fallback,
        seconds=seconds,
    )
    return engine


@functools.cache
def engine_get() -> Engine:
    """Return this process's engine, loading it on first use."""
    return engine_load()
