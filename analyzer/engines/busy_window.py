"""How busy the model was lately: the share of the last second spent in model calls, and whether
an analysis had to wait for the model meanwhile.

The micro-batcher refuses lower-priority work with a deadline when both say the model is taken.
A BusyWindow holds no lock of its own: the batcher uses it with its condition held.
"""

import collections

# Seconds over which the model's busy time is added up.
BUSY_WINDOW = 1.0


class BusyWindow:
    """The model calls that ended in the last BUSY_WINDOW seconds, and the last analysis wait."""

    def __init__(self) -> None:
        # (end, seconds) of the model calls that ended in the last BUSY_WINDOW seconds, and
        # when an analysis last had to wait for the model, busy with other work.
        self._calls: collections.deque[tuple[float, float]] = collections.deque()
        self._analysis_waited_at = -BUSY_WINDOW

    def call_ended(self, *, ended: float, seconds: float) -> None:
        """Record a model call that ended at `ended` (time.monotonic) after `seconds`."""
        self._calls.append((ended, seconds))

    def analysis_waited(self, *, at: float) -> None:
        """Record that an analysis arrived at `at` (time.monotonic) while the model was busy."""
        self._analysis_waited_at = at

    def share(self, *, now: float) -> tuple[float, bool]:
        """Return the share of the last BUSY_WINDOW seconds the model was busy, and whether an
        analysis had to wait for it meanwhile (someone else's work held it up)."""
        while self._calls and self._calls[0][0] < now - BUSY_WINDOW:
            self._calls.popleft()
        busy = sum(min(seconds, end - (now - BUSY_WINDOW)) for end, seconds in self._calls)
        waited = self._analysis_waited_at >= now - BUSY_WINDOW
        return busy / BUSY_WINDOW, waited
