"""What an explanation costs the model next to the analysis it explains, in-process.

The served int8 engine (batching on, padding calibrated, one intra-op thread as in a worker) is
timed inside its model calls, so the figures are model work only: no HTTP, no Django.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.corpus import explain_texts, short_texts

REPEATS = 3
AGREEMENT_TEXTS = 60


class ModelMeter:
    """Wraps an engine's model calls: seconds, padded tokens and calls, since the last reset."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seconds = 0.0
        self.tokens = 0
        self.calls = 0
        run = engine.batcher._run

        def timed(windows: Sequence) -> list:
            started = time.perf_counter()
            scores = run(windows)
            self.seconds += time.perf_counter() - started
            self.tokens += len(windows) * max(engine._window_tokens(w) for w in windows)
            self.calls += 1
            return scores

        engine.batcher._run = timed

    def reset(self) -> None:
        self.seconds, self.tokens, self.calls = 0.0, 0, 0


@contextmanager
def engine_served(engine) -> Iterator[None]:
    """Let the services use `engine` for the duration."""
    from analyzer.engines import loader

    original = loader.engine_get
    loader.engine_get = lambda: engine
    try:
        yield
    finally:
        loader.engine_get = original


def best_of(meter: ModelMeter, action, **arguments) -> tuple[dict, object]:
    """Run action(**arguments) REPEATS times; return the fastest run's model work and result."""
    runs = []
    for _repeat in range(REPEATS):
        meter.reset()
        result = action(**arguments)
        runs.append(
            ({"ms": meter.seconds * 1000, "tokens": meter.tokens, "calls": meter.calls}, result)
        )
    return min(runs, key=lambda run: run[0]["ms"])


def explanation_costs(model_folder: Path) -> dict[str, dict]:
    """Return, per text of the issue, the model work of its analysis and of its explanation."""
    import os
    from dataclasses import replace

    from analyzer import explain, services
    from analyzer.engines.onnx_layout import onnx_folder
    from benchmarks.bench import OPTIMIZED, _served_engine

    engine = _served_engine(
        onnx_folder(model_folder), max(1, (os.cpu_count() or 1) // OPTIMIZED["workers"])
    )
    meter = ModelMeter(engine)
    budget = replace(explain.budget_default(), wait_seconds=None)
    texts = explain_texts()
    cases = [("13 words, one copy per word", texts["13 words"], replace(budget, fine_words=10**6))]
    cases += [(name, text, budget) for name, text in texts.items()]
    costs = {}
    with engine_served(engine):
        engine.predict(["warm up"])
        for name, text, case_budget in cases:
            analysis_work, analyses = best_of(meter, services.analyses_build, texts=[text])
            explanation_work, explanations = best_of(
                meter, explain.explanations_build, analyses=analyses, budget=case_budget
            )
            [explanation] = explanations
            costs[name] = {
                "sentences": len(explanation.pieces),
                "analysis_ms": analysis_work["ms"],
                "analysis_tokens": analysis_work["tokens"],
                "explanation_ms": explanation_work["ms"],
                "explanation_tokens": explanation_work["tokens"],
                "inputs": explanation.model_inputs,
                "calls": explanation_work["calls"],
                "ratio": explanation_work["ms"] / analysis_work["ms"],
            }
    return costs


def _top_word(explanation) -> str:
    top = max(explanation.spans, key=lambda span: span.contribution)
    return top.text.lower()


def coarse_to_fine_agreement(model_folder: Path) -> dict:
    """Return how often coarse to fine finds plain occlusion's top word, and at what cost."""
    from dataclasses import replace

    from analyzer import explain, occlusion, services
    from analyzer.engines.onnx_layout import onnx_folder
    from analyzer.engines.profanity_engine import ProfanityCheckEngine
    from benchmarks.bench import _served_engine

    budget = replace(explain.budget_default(), wait_seconds=None)
    full_budget = replace(budget, fine_words=10**6)
    texts = [text for text in short_texts() if len(occlusion.word_spans(text)) > budget.fine_words]
    texts = texts[:AGREEMENT_TEXTS]
    outcome = {"fine_words": budget.fine_words}
    engines = {
        "offline": ProfanityCheckEngine(),
        "model": _served_engine(onnx_folder(model_folder), 1),
    }
    for name, engine in engines.items():
        same, inputs_full, inputs_coarse = 0, 0, 0
        with engine_served(engine):
            analyses = services.analyses_build(texts=texts)
            full = explain.explanations_build(analyses=analyses, budget=full_budget)
            coarse = explain.explanations_build(analyses=analyses, budget=budget)
        for plain, cheap in zip(full, coarse, strict=True):
            same += _top_word(plain) == _top_word(cheap)
            inputs_full += plain.model_inputs
            inputs_coarse += cheap.model_inputs
        outcome[f"{name}_same"] = same
        outcome[f"{name}_texts"] = len(texts)
        outcome[f"{name}_inputs_full"] = inputs_full / len(texts)
        outcome[f"{name}_inputs_coarse"] = inputs_coarse / len(texts)
    return outcome
