"""Gather the texts of concurrent requests into one model call.

A text joins a batch only while the padding it adds costs less than a call of its own
(`max_padding_tokens`, which the engine measures at start-up: `analyzer.engines.batch_costs`).

One background thread per engine takes the oldest queued item of the most urgent priority and
the queued items of that priority closest to it in length (up to a number of items, a token
budget and that padding), runs them, and hands each request its own results. Explanations are
queued at a lower priority than analyses, so they only use the model while no analysis waits;
those with a deadline (`wait`: the results page's) are refused at once while the model is busy
(`max_busy_share` of the last second) and analyses have had to wait for it, and give up when
they wait too long: under load the model serves verdicts. Those without a deadline (asked for by
an API client, who pays for them in its limit of texts) wait behind the analyses until served.
A request alone runs at once; the thread waits a few milliseconds for more only while another
request is known to be on its way.
"""

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

from analyzer.engines.busy_window import BUSY_WINDOW, BusyWindow

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class Priority(IntEnum):
    """Which queued work a model call takes first: the lowest value."""

    # Someone is waiting for a verdict.
    ANALYSIS = 0
    # Word highlights: they run while no analysis waits.
    EXPLANATION = 1


class Overloaded(RuntimeError):
    """Items waited longer than their request allowed and were withdrawn unscored."""


@dataclass
class _Submission(Generic[Item, Result]):
    items: Sequence[Item]
    results: list[Result | None] = field(default_factory=list)
    error: BaseException | None = None
    remaining: int = 0
    # Items the worker has taken into a model call so far.
    taken: int = 0
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Pending(Generic[Item, Result]):
    submission: _Submission[Item, Result]
    index: int
    cost: int
    priority: Priority


class MicroBatcher(Generic[Item, Result]):
    """Run `run` on batches of items gathered from concurrent `submit` calls."""

    def __init__(
        self,
        run: Callable[[list[Item]], list[Result]],
        *,
        cost: Callable[[Item], int],
        max_items: int = 8,
        max_tokens: int = 512,
        max_wait: float = 0.002,
        max_padding_tokens: int = 3,
        max_background_tokens: int | None = None,
        max_busy_share: float = 0.8,
        name: str = "toxmon-batcher",
    ) -> None:
        if max_items < 1 or max_tokens < 1 or max_wait < 0 or max_padding_tokens < 0:
            raise ValueError(
                "max_items and max_tokens must be positive, max_wait and max_padding_tokens "
                "not negative"
            )
        self._run = run
        self._cost = cost
        self.max_items = max_items
        self.max_tokens = max_tokens
        self.max_wait = max_wait
        self.max_padding_tokens = max_padding_tokens
        # A batch of lower-priority items has no limit of items, so an explanation's many short
        # copies take few calls, but half the tokens, so an analysis that arrives while it runs
        # waits less. A single item is never cut.
        self.max_background_tokens = (
            max_background_tokens if max_background_tokens is not None else max(1, max_tokens // 2)
        )
        # Lower-priority work is refused at once while the model was busy more than this share
        # of the last BUSY_WINDOW seconds and analyses were among its work: queued, it would
        # take the model from the next verdicts, or hold its request until it gives up.
        self.max_busy_share = max_busy_share
        self._name = name
        # Guarded by _condition, like the queue.
        self._busy = BusyWindow()
        self._queue: list[_Pending[Item, Result]] = []
        # The submissions whose items are in the model call running now.
        self._running: list[_Submission[Item, Result]] = []
        self._arriving = 0
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        # The sizes of the last batches run, for tests and the benchmark.
        self.batch_sizes: collections.deque[int] = collections.deque(maxlen=1000)

    @contextlib.contextmanager
    def incoming(self) -> Iterator[Callable[[Sequence[Item]], list[Result]]]:
        """Announce a request while it prepares its items; yield the function that submits them.

        While a request is announced, the worker waits up to max_wait for its items before
        running a batch without them.
        """
        with self._condition:
            self._arriving += 1
        submitted = False

        def submit(items: Sequence[Item]) -> list[Result]:
            nonlocal submitted
            submitted = True
            return self._submit(items, announced=True, priority=Priority.ANALYSIS, wait=None)

        try:
            yield submit
        finally:
            if not submitted:
                with self._condition:
                    self._arriving -= 1
                    self._condition.notify_all()

    def submit(
        self,
        items: Sequence[Item],
        *,
        priority: Priority = Priority.ANALYSIS,
        wait: float | None = None,
    ) -> list[Result]:
        """Return the results of items, computed in batches with other requests' items.

        With `wait`: when that many seconds pass without the model taking any of the items, the
        ones still queued are withdrawn and Overloaded is raised. A submission that is being
        served, batch after batch, is never cut off.
        """
        return self._submit(items, announced=False, priority=priority, wait=wait)

    def busy_share(self) -> tuple[float, bool]:
        """Return the share of the last BUSY_WINDOW seconds the model was busy, and whether an
        analysis had to wait for it meanwhile (someone else's work held it up)."""
        now = time.monotonic()
        with self._condition:
            return self._busy.share(now=now)

    def _submit(
        self, items: Sequence[Item], *, announced: bool, priority: Priority, wait: float | None
    ) -> list[Result]:
        # Work that would give up after `wait` anyway is refused now, when that is sure.
        if priority != Priority.ANALYSIS and wait is not None and items:
            busy, analyses_waited = self.busy_share()
            if analyses_waited and busy > self.max_busy_share:
                raise Overloaded(
                    f"the model was busy {busy:.0%} of the last {BUSY_WINDOW:g} s and analyses "
                    "waited for it"
                )
        submission: _Submission[Item, Result] = _Submission(
            items=items, results=[None] * len(items), remaining=len(items)
        )
        try:
            pending = [
                _Pending(
                    submission=submission, index=index, cost=self._cost(item), priority=priority
                )
                for index, item in enumerate(items)
            ]
        except BaseException:
            if announced:
                with self._condition:
                    self._arriving -= 1
                    self._condition.notify_all()
            raise
        with self._condition:
            if announced:
                self._arriving -= 1
            if not items:
                self._condition.notify_all()
                return []
            self._ensure_worker()
            # An analysis that arrives while the model runs another request's call must wait.
            if priority == Priority.ANALYSIS and self._running:
                self._busy.analysis_waited(at=time.monotonic())
            self._queue.extend(pending)
            self._condition.notify_all()
        taken = 0
        while not submission.done.wait(wait):
            with self._condition:
                # Served meanwhile, or in the model call running now: it is not being starved.
                if submission.taken > taken or submission in self._running:
                    taken = submission.taken
                    continue
                self._withdraw(submission, waited=wait)
        if submission.error is not None:
            raise submission.error
        return submission.results  # type: ignore[return-value]

    def _withdraw(self, submission: _Submission[Item, Result], *, waited: float | None) -> None:
        """Take a submission's waiting items out of the queue and raise Overloaded.

        Called with the condition held. Does nothing when every item is in a model call already.
        """
        left = sum(1 for pending in self._queue if pending.submission is submission)
        if not left:
            return
        self._queue = [pending for pending in self._queue if pending.submission is not submission]
        raise Overloaded(
            f"{left} of {len(submission.items)} item(s) waited {waited} s without the model "
            "taking any"
        )

    def queued(self, *, priority: Priority) -> int:
        """Return how many items of this priority wait for the model."""
        with self._condition:
            return sum(1 for pending in self._queue if pending.priority == priority)

    def _ensure_worker(self) -> None:
        # Started on first use, so a process that forks after loading never holds a dead thread.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            self._thread.start()

    def _take(self) -> list[_Pending[Item, Result]]:
        """Wait for work and return the next batch, oldest item first."""
        with self._condition:
            while not self._queue:
                self._condition.wait()
            deadline = time.monotonic() + self.max_wait
            while len(self._queue) < self.max_items and self._arriving > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            # Only the most urgent priority waiting is served; its oldest item always goes,
            # however long. The others join it closest length first, while the batch stays
            # within the token budget and each joiner adds no more padding than a call of its
            # own would cost: padded tokens cost as much as real ones.
            urgent = min(pending.priority for pending in self._queue)
            candidates = [pending for pending in self._queue if pending.priority == urgent]
            if urgent == Priority.ANALYSIS:
                max_items, max_tokens = self.max_items, self.max_tokens
            else:
                max_items, max_tokens = self.max_background_tokens, self.max_background_tokens
            head = candidates[0]
            batch = [head]
            longest = head.cost
            for pending in sorted(candidates[1:], key=lambda item: abs(item.cost - head.cost)):
                if len(batch) == max_items:
                    break
                padded = (len(batch) + 1) * max(longest, pending.cost)
                added_padding = padded - len(batch) * longest - pending.cost
                if padded > max_tokens or added_padding > self.max_padding_tokens:
                    continue
                batch.append(pending)
                longest = max(longest, pending.cost)
            taken = {id(pending) for pending in batch}
            self._queue = [pending for pending in self._queue if id(pending) not in taken]
            for pending in batch:
                pending.submission.taken += 1
            self._running = [pending.submission for pending in batch]
            return batch

    def _work(self) -> None:
        while True:
            batch = self._take()
            self.batch_sizes.append(len(batch))
            started = time.monotonic()
            self._batch_run(batch)
            ended = time.monotonic()
            with self._condition:
                self._running = []
                self._busy.call_ended(ended=ended, seconds=ended - started)

    def _batch_run(self, batch: list[_Pending[Item, Result]]) -> None:
        """Run one batch and hand each item's submission its result or error."""
        try:
            results = self._run([pending.submission.items[pending.index] for pending in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except Exception as error:
            if len(batch) == 1:
                self._fail(batch[0], error)
                return
            # One bad item must not fail the requests it happened to share a batch with.
            for pending in batch:
                try:
                    [result] = self._run([pending.submission.items[pending.index]])
                except Exception as item_error:
                    self._fail(pending, item_error)
                else:
                    self._deliver(pending, result)
            return
        for pending, result in zip(batch, results, strict=True):
            self._deliver(pending, result)

    def _deliver(self, pending: _Pending[Item, Result], result: Result) -> None:
        submission = pending.submission
        submission.results[pending.index] = result
        submission.remaining -= 1
        if submission.remaining == 0:
            submission.done.set()

    def _fail(self, pending: _Pending[Item, Result], error: BaseException) -> None:
        submission = pending.submission
        if submission.error is None:
            submission.error = error
        submission.remaining -= 1
        if submission.remaining == 0:
            submission.done.set()
