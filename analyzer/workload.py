"""How much model work a request brings, and how much one web worker takes on at once.

A gunicorn worker scores its requests one model call after another on its own cores, so a request
that brings dozens of model windows (a long text explained word by word, 32 long texts through
the API) makes every request behind it wait. Each worker counts the windows it has taken on; a
request that would take it over TOXMON_WORKER_MAX_WINDOWS is refused with a Retry-After instead,
and the client can retry here or on another replica while this one works through its queue.

The windows are estimated from the text before it is scored: tokens are about one per short
run of letters or digits and one per other character, which errs on the high side for English.
"""

import contextlib
import math
import re
import threading
from collections.abc import Iterator, Sequence

from django.conf import settings

from analyzer.occlusion import grouped_spans, word_spans

# toxic-bert reads 512 tokens a window, two of them its own; neighbouring windows share 64.
WINDOW_TOKENS = 510
WINDOW_STRIDE = 446
# Up to five letters or digits, or any other single character that is not a space.
TOKEN_ESTIMATE = re.compile(r"[A-Za-z0-9]{1,5}|[^\sA-Za-z0-9]")
# What a client is told to wait when a worker is full: about the time a full queue takes.
BUSY_RETRY_SECONDS = 5


class WorkerBusy(Exception):
    """This worker has as much model work as it should queue; retry later."""

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"the worker is busy; retry in {retry_after} s")
        self.retry_after = retry_after


class TooMuchWork(Exception):
    """One request alone is more model work than a worker takes on at once."""

    def __init__(self, *, windows: float, limit: int) -> None:
        super().__init__(f"about {windows:.0f} model windows; a request may bring {limit}")
        self.windows = windows
        self.limit = limit


def tokens_estimate(text: str) -> int:
    """Return about how many tokens the model reads text as (a little more for English)."""
    return len(TOKEN_ESTIMATE.findall(text)) + 2


def windows_estimate(text: str) -> int:
    """Return about how many 512-token windows the model reads text in."""
    tokens = tokens_estimate(text)
    return 1 + math.ceil(max(0, tokens - 2 - WINDOW_TOKENS) / WINDOW_STRIDE)


def work_estimate(*, texts: Sequence[str], explain_spans: int = 0) -> float:
    """Return the model work of scoring the texts, in full windows of 512 tokens.

    A short text costs a fraction of a window. With explain_spans, each text is also scored once
    without each of its word groups, as analyzer/explain.py does.
    """
    work = 0.0
    for text in texts:
        windows = windows_estimate(text)
        cost = min(windows, tokens_estimate(text) / (WINDOW_TOKENS + 2))
        passes = 1
        if explain_spans:
            limit = max(1, explain_spans // windows)
            passes += len(grouped_spans(word_spans(text), limit=limit))
        work += cost * passes
    return work


class WorkerLoad:
    """The model work this process has taken on and not finished, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows = 0.0

    @contextlib.contextmanager
    def admitted(self, *, windows: float) -> Iterator[None]:
        """Hold windows of this worker's budget while the block runs, or raise if it is full."""
        limit = settings.TOXMON_WORKER_MAX_WINDOWS
        if windows > limit:
            raise TooMuchWork(windows=windows, limit=limit)
        with self.lock:
            if self.windows + windows > limit:
                raise WorkerBusy(retry_after=BUSY_RETRY_SECONDS)
            self.windows += windows
        try:
            yield
        finally:
            with self.lock:
                self.windows -= windows


# One per process: gunicorn's workers are processes, each with its own engine and cores.
worker_load = WorkerLoad()


def work_admitted(*, windows: float) -> contextlib.AbstractContextManager[None]:
    """Run the block as windows of this worker's model work; raise WorkerBusy when it is full."""
    return worker_load.admitted(windows=windows)
