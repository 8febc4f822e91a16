"""Gather the texts of concurrent requests into one model call.

On a CPU a BERT call costs a fixed part plus the same for every token it reads, padding
included. For BERT-base int8 on one thread that is about 3.5 ms plus 1.25 ms a token: the fixed
part, all that batching saves, is worth only about 3 tokens. So a text joins a batch only while
the padding it adds is at most that; padding of a fifth, allowed before, cost more than batching
saved. One background thread per engine takes the oldest queued item and the queued items
closest to it in length (up to a number of items, a token budget and that padding), runs them,
and hands each request its own results. A request alone runs at once; the thread waits a few
milliseconds for more only while another request is known to be on its way.
"""

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Submission(Generic[Item, Result]):
    items: Sequence[Item]
    results: list[Result | None] = field(default_factory=list)
    error: BaseException | None = None
    remaining: int = 0
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Pending(Generic[Item, Result]):
    submission: _Submission[Item, Result]
    index: int
    cost: int


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
        self._name = name
        self._queue: list[_Pending[Item, Result]] = []
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
            return self._submit(items, announced=True)

        try:
            yield submit
        finally:
            if not submitted:
                with self._condition:
                    self._arriving -= 1
                    self._condition.notify_all()

    def submit(self, items: Sequence[Item]) -> list[Result]:
        """Return the results of items, computed in batches with other requests' items."""
        return self._submit(items, announced=False)

    def _submit(self, items: Sequence[Item], *, announced: bool) -> list[Result]:
        submission: _Submission[Item, Result] = _Submission(
            items=items, results=[None] * len(items), remaining=len(items)
        )
        try:
            pending = [
                _Pending(submission=submission, index=index, cost=self._cost(item))
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
            self._queue.extend(pending)
            self._condition.notify_all()
        submission.done.wait()
        if submission.error is not None:
            raise submission.error
        return submission.results  # type: ignore[return-value]

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
            # The oldest item always goes, however long. The others join it closest length first,
            # while the batch stays within the token budget and each joiner adds no more padding
            # than a call of its own would cost: padded tokens cost as much as real ones.
            head = self._queue[0]
            batch = [head]
            longest = head.cost
            for pending in sorted(self._queue[1:], key=lambda item: abs(item.cost - head.cost)):
                if len(batch) == self.max_items:
                    break
                padded = (len(batch) + 1) * max(longest, pending.cost)
                added_padding = padded - len(batch) * longest - pending.cost
                if padded > self.max_tokens or added_padding > self.max_padding_tokens:
                    continue
                batch.append(pending)
                longest = max(longest, pending.cost)
            taken = {id(pending) for pending in batch}
            self._queue = [pending for pending in self._queue if id(pending) not in taken]
            return batch

    def _work(self) -> None:
        while True:
            batch = self._take()
            self.batch_sizes.append(len(batch))
            try:
                results = self._run([pending.submission.items[pending.index] for pending in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} items")
            except Exception as error:
                if len(batch) == 1:
                    self._fail(batch[0], error)
                    continue
                # One bad item must not fail the requests it happened to share a batch with.
                for pending in batch:
                    try:
                        [result] = self._run([pending.submission.items[pending.index]])
                    except Exception as item_error:
                        self._fail(pending, item_error)
                    else:
                        self._deliver(pending, result)
                continue
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
