"""The micro-batcher with a fake model: concurrent requests share calls, never answers."""

import threading
import time
from collections.abc import Sequence

import pytest

from analyzer.engines.microbatcher import MicroBatcher, Overloaded, Priority


class FakeModel:
    """Doubles numbers, slowly, one batch at a time; a negative number breaks the whole call."""

    def __init__(self, seconds_per_call: float = 0.02) -> None:
        self.seconds_per_call = seconds_per_call
        self.calls: list[list[int]] = []

    def run(self, items: Sequence[int]) -> list[int]:
        self.calls.append(list(items))
        time.sleep(self.seconds_per_call)
        if any(item < 0 for item in items):
            raise ValueError(f"cannot score {min(items)}")
        return [item * 2 for item in items]


def in_threads(batcher: MicroBatcher, requests: list[list[int]]) -> list[object]:
    """Submit each request from its own thread, all at once; return results or errors."""
    answers: list[object] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def send(index: int) -> None:
        start.wait()
        try:
            answers[index] = batcher.submit(requests[index])
        except Exception as error:
            answers[index] = error

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers


def busy_with_waiting_analyses(batcher: MicroBatcher, model: FakeModel) -> None:
    """Keep the model busy with five analyses, four of them arriving while it runs the first."""
    first = threading.Thread(target=batcher.submit, args=([10],))
    first.start()
    while not model.calls:
        time.sleep(0.001)
    in_threads(batcher, [[item] for item in range(11, 15)])
    first.join()


def test_concurrent_requests_get_their_own_answers_from_shared_calls():
    model = FakeModel()
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=8)
    requests = [[index, 100 + index] for index in range(12)]
    answers = in_threads(batcher, requests)
    assert answers == [[2 * a, 2 * b] for a, b in requests]
    assert len(model.calls) < len(requests), "requests were scored together"
    assert max(len(call) for call in model.calls) <= 8


def test_an_error_in_one_requests_text_does_not_fail_the_others():
    model = FakeModel()
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=8)
    requests = [[1], [2, -1], [3], [4], [5]]
    answers = in_threads(batcher, requests)
    assert isinstance(answers[1], ValueError)
    assert answers[:1] + answers[2:] == [[2], [6], [8], [10]]
    assert any(-1 in call and len(call) > 1 for call in model.calls), "it shared a call"
    assert batcher.submit([7]) == [14], "the batcher still works afterwards"


def test_an_idle_batcher_runs_a_single_request_at_once():
    model = FakeModel(seconds_per_call=0)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_wait=0.5)
    batcher.submit([1])  # starts the worker thread
    started = time.perf_counter()
    assert batcher.submit([21]) == [42]
    assert time.perf_counter() - started < 0.1, "no waiting for company that is not coming"
    assert model.calls[-1] == [21]


def test_an_announced_request_is_waited_for_briefly():
    model = FakeModel(seconds_per_call=0)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_wait=0.5)
    with batcher.incoming() as submit_second:
        first = threading.Thread(target=batcher.submit, args=([1],))
        first.start()
        time.sleep(0.05)  # the second request is still preparing its items
        assert submit_second([2]) == [4]
        first.join(timeout=5)
    assert model.calls == [[1, 2]]


def test_a_batch_stays_within_the_token_budget_and_the_oldest_item_always_goes():
    model = FakeModel(seconds_per_call=0.05)
    # Each item costs its own value in tokens; every item is padded to the longest one.
    batcher = MicroBatcher(model.run, cost=lambda item: item, max_items=8, max_tokens=100)
    answers = in_threads(batcher, [[500], [10], [10], [10], [60], [10]])
    assert all(not isinstance(answer, Exception) for answer in answers)
    for call in model.calls:
        if len(call) > 1:
            assert len(call) * max(call) <= 100
    assert [500] in model.calls, "an item over the budget is run alone"


def test_texts_of_very_different_lengths_are_not_padded_together():
    model = FakeModel(seconds_per_call=0.05)
    batcher = MicroBatcher(model.run, cost=lambda item: item, max_items=8, max_tokens=10_000)
    in_threads(batcher, [[1], [10], [300], [12], [290], [11]])
    for call in model.calls:
        assert max(call) - min(call) <= 0.2 * max(call), f"{call} pads short texts to long"
    assert any(len(call) > 1 for call in model.calls), "texts of about one length go together"


def test_a_text_joins_a_batch_only_if_it_adds_a_few_padding_tokens():
    model = FakeModel(seconds_per_call=0.05)
    batcher = MicroBatcher(
        model.run, cost=lambda item: item, max_items=8, max_tokens=10_000, max_padding_tokens=3
    )
    # 20 and 23 differ by 15 %, which a share-of-padding rule let through, but padding 20 to 23
    # costs about what a call of its own does.
    in_threads(batcher, [[20], [20], [21], [24], [28]])
    for call in model.calls:
        padding = len(call) * max(call) - sum(call)
        assert padding <= 3 * (len(call) - 1), f"{call} adds more padding than a call costs"
        assert not (min(call) == 20 and max(call) >= 24), f"{call} pads 20 tokens to 24"
    assert any(len(call) > 1 for call in model.calls), "texts a token apart go together"


def test_an_empty_request_returns_at_once():
    batcher = MicroBatcher(FakeModel().run, cost=lambda item: 1)
    assert batcher.submit([]) == []
    with batcher.incoming() as submit:
        assert submit([]) == []


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        MicroBatcher(FakeModel().run, cost=lambda item: 1, max_items=0)
    with pytest.raises(ValueError):
        MicroBatcher(FakeModel().run, cost=lambda item: 1, max_padding_tokens=-1)


def test_waiting_analyses_run_before_waiting_explanations():
    model = FakeModel(seconds_per_call=0.05)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=2)
    busy = threading.Thread(target=batcher.submit, args=([0],))
    busy.start()
    time.sleep(0.01)  # the model is busy with [0]; everything below queues behind it
    explanation = threading.Thread(
        target=batcher.submit, args=([1, 2, 3, 4],), kwargs={"priority": Priority.EXPLANATION}
    )
    explanation.start()
    time.sleep(0.01)
    analysis = threading.Thread(target=batcher.submit, args=([5],))
    analysis.start()
    for thread in (busy, explanation, analysis):
        thread.join(timeout=5)
    assert model.calls[:2] == [[0], [5]], "the later analysis went before the explanation"
    assert sorted(item for call in model.calls[2:] for item in call) == [1, 2, 3, 4]


def test_a_batch_never_mixes_analyses_with_explanations():
    model = FakeModel(seconds_per_call=0.03)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=8)
    answers: dict[str, object] = {}

    def send(name: str, items: list[int], priority: Priority) -> None:
        answers[name] = batcher.submit(items, priority=priority)

    threads = [
        threading.Thread(target=send, args=(f"a{n}", [n], Priority.ANALYSIS)) for n in range(4)
    ] + [threading.Thread(target=send, args=("e", [100, 101, 102], Priority.EXPLANATION))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert answers["e"] == [200, 202, 204]
    for call in model.calls:
        kinds = {item >= 100 for item in call}
        assert len(kinds) == 1, f"{call} mixes analyses and explanations"


def test_explanation_batches_are_cut_by_tokens_only_so_an_arriving_analysis_waits_little():
    model = FakeModel(seconds_per_call=0)
    batcher = MicroBatcher(
        model.run, cost=lambda item: 10, max_items=4, max_tokens=80, max_background_tokens=60
    )
    assert batcher.submit(list(range(12)), priority=Priority.EXPLANATION) == [
        2 * item for item in range(12)
    ]
    assert [len(call) for call in model.calls] == [6, 6], "60 tokens a call, more than 4 items"
    model.calls.clear()
    batcher.submit(list(range(8)))
    assert [len(call) for call in model.calls] == [4, 4], "analyses keep their item limit"


def test_an_explanation_that_waits_too_long_is_withdrawn_and_never_scored():
    model = FakeModel(seconds_per_call=0.3)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=1)
    busy = threading.Thread(target=batcher.submit, args=([0],))
    busy.start()
    time.sleep(0.02)
    started = time.perf_counter()
    with pytest.raises(Overloaded):
        batcher.submit([1, 2], priority=Priority.EXPLANATION, wait=0.05)
    assert time.perf_counter() - started < 0.2, "it gave up without waiting for the model"
    busy.join(timeout=5)
    assert batcher.queued(priority=Priority.EXPLANATION) == 0
    time.sleep(0.05)
    assert all(1 not in call and 2 not in call for call in model.calls)
    assert batcher.submit([3], priority=Priority.EXPLANATION, wait=1) == [6], "still served later"


def test_an_explanation_already_in_a_model_call_is_waited_for_past_its_wait():
    model = FakeModel(seconds_per_call=0.2)
    batcher = MicroBatcher(model.run, cost=lambda item: 1)
    assert batcher.submit([4], priority=Priority.EXPLANATION, wait=0.05) == [8]


def test_an_explanation_served_batch_after_batch_is_never_cut_off():
    model = FakeModel(seconds_per_call=0.03)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=2)
    # Five calls of 30 ms: far longer than the wait, but the model keeps taking its items.
    answer = batcher.submit(list(range(10)), priority=Priority.EXPLANATION, wait=0.05)
    assert answer == [2 * item for item in range(10)]


def test_an_explanation_in_a_model_call_longer_than_its_wait_is_not_withdrawn():
    model = FakeModel(seconds_per_call=0.2)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=2)
    # The first call alone outlasts the wait; the rest is queued behind it.
    answer = batcher.submit([1, 2, 3], priority=Priority.EXPLANATION, wait=0.05)
    assert answer == [2, 4, 6]


def test_explanations_are_refused_at_once_while_analyses_wait_for_a_busy_model():
    # 0.7 s of calls: over half the last second busy, and the analyses that arrived waiting at
    # its start still inside it, with 0.3 s to spare for a loaded machine.
    model = FakeModel(seconds_per_call=0.14)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=1, max_busy_share=0.5)
    assert batcher.submit([1], priority=Priority.EXPLANATION) == [2], "an idle model explains"
    busy_with_waiting_analyses(batcher, model)
    assert batcher.busy_share()[0] > 0.5
    started = time.perf_counter()
    with pytest.raises(Overloaded):
        batcher.submit([99], priority=Priority.EXPLANATION, wait=5)
    assert time.perf_counter() - started < 1, "refused without waiting its 5 s"
    assert all(99 not in call for call in model.calls), "and never scored"
    time.sleep(1.05)
    assert batcher.busy_share() == (0, False)
    assert batcher.submit([3], priority=Priority.EXPLANATION) == [6], "served again once idle"


def test_explanations_without_a_deadline_wait_behind_analyses_instead_of_being_refused():
    model = FakeModel(seconds_per_call=0.14)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=1, max_busy_share=0.5)
    busy_with_waiting_analyses(batcher, model)
    share, analyses_waited = batcher.busy_share()
    assert share > 0.5 and analyses_waited
    assert batcher.submit([99], priority=Priority.EXPLANATION, wait=None) == [198]


def test_one_users_long_analysis_does_not_stop_its_own_explanation():
    model = FakeModel(seconds_per_call=0.1)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=1, max_busy_share=0.5)
    # One analysis after another, each alone: the model was busy, but nobody waited for it.
    for item in range(8):
        batcher.submit([item])
    share, analyses_waited = batcher.busy_share()
    assert share > 0.5 and not analyses_waited
    assert batcher.submit([9], priority=Priority.EXPLANATION) == [18]


def test_one_users_long_text_read_in_many_calls_does_not_stop_its_own_explanation():
    model = FakeModel(seconds_per_call=0.1)
    batcher = MicroBatcher(model.run, cost=lambda item: 1, max_items=1, max_busy_share=0.5)
    # One request of eight windows, one a call: its own windows wait for each other only.
    assert batcher.submit(list(range(8))) == [2 * item for item in range(8)]
    share, analyses_waited = batcher.busy_share()
    assert share > 0.5 and not analyses_waited
    assert batcher.submit([9], priority=Priority.EXPLANATION) == [18]
