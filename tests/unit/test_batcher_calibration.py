"""The micro-batcher's padding rule comes from the model's measured costs, unless settings say."""

import logging
import time
from collections.abc import Sequence

import pytest

from analyzer import metrics
from analyzer.engines import loader
from analyzer.engines.base import BatchLimits, WindowedEngine
from analyzer.engines.batch_costs import MAX_PADDING_TOKENS, costs_fit


class SleepingEngine(WindowedEngine):
    """A model whose call costs 6 ms plus 0.5 ms a token: a text may add 12 padding tokens."""

    runtime = "sleeping"
    model = "sleeping"
    labels = ("toxic",)

    def __init__(self, *, batch: BatchLimits | None) -> None:
        self.calls: list[int] = []
        super().__init__(batch=batch)

    def _windows(self, text: str) -> list[int]:
        return [len(text.split()) + 2]

    def _window_tokens(self, window: int) -> int:
        return window

    def _score(self, windows: Sequence[int]) -> list[list[float]]:
        self.calls.append(len(windows))
        time.sleep(0.006 + 0.0005 * max(windows) * len(windows))
        return [[0.5] for _ in windows]


@pytest.mark.parametrize(
    ("call_ms", "token_ms", "padding"),
    [(3.5, 1.25, 3), (8.0, 0.35, 23), (1.0, 2.0, 0), (50.0, 0.01, 64)],
)
def test_the_padding_rule_is_what_a_call_costs_in_tokens(call_ms, token_ms, padding):
    samples = [(tokens, (call_ms + token_ms * tokens) / 1000) for tokens in (6, 18, 66)]
    cost = costs_fit(samples=samples)
    assert cost.call_seconds == pytest.approx(call_ms / 1000)
    assert cost.token_seconds == pytest.approx(token_ms / 1000)
    assert cost.padding_tokens == padding


def test_a_fit_needs_two_sizes_and_never_goes_negative():
    with pytest.raises(ValueError):
        costs_fit(samples=[(10, 0.01), (10, 0.02)])
    # Timer noise can make a longer call look cheaper; that measures no cost per token at all.
    cost = costs_fit(samples=[(6, 0.02), (66, 0.01)])
    assert cost.token_seconds == 0 and cost.call_seconds > 0
    assert cost.padding_tokens == MAX_PADDING_TOKENS


def test_the_engine_measures_what_a_call_and_a_token_cost():
    engine = SleepingEngine(batch=BatchLimits())
    cost = engine.calibrate()
    # Sleeps overshoot on a busy machine, never undershoot; the fastest repeat is kept.
    assert 0.006 <= cost.call_seconds < 0.02
    assert cost.token_seconds == pytest.approx(0.0005, rel=0.3)
    assert 8 <= cost.padding_tokens <= 40


def test_loading_sets_the_padding_rule_from_the_measurement_logs_and_exports_it(settings, caplog):
    settings.TOXMON_MICROBATCH_MAX_PADDING = None
    engine = SleepingEngine(batch=loader.batch_limits())
    with caplog.at_level(logging.INFO, logger="analyzer.engines.loader"):
        loader.batcher_calibrate(engine)
    assert engine.batcher is not None
    assert 8 <= engine.batcher.max_padding_tokens <= 40
    assert metrics.BATCHER_PADDING_TOKENS._value.get() == engine.batcher.max_padding_tokens
    assert metrics.BATCHER_TOKEN_SECONDS._value.get() == pytest.approx(0.0005, rel=0.3)
    assert "padding tokens" in caplog.text and "per token" in caplog.text


def test_a_padding_set_in_settings_is_kept_and_nothing_is_measured(settings):
    settings.TOXMON_MICROBATCH_MAX_PADDING = 7
    engine = SleepingEngine(batch=loader.batch_limits())
    loader.batcher_calibrate(engine)
    assert engine.batcher is not None and engine.batcher.max_padding_tokens == 7
    assert engine.calls == [], "no warm-up calls were timed"
    assert metrics.BATCHER_PADDING_TOKENS._value.get() == 7


def test_without_batching_nothing_is_measured(settings):
    settings.TOXMON_MICROBATCH = False
    engine = SleepingEngine(batch=loader.batch_limits())
    loader.batcher_calibrate(engine)
    assert engine.batcher is None and engine.calls == []
