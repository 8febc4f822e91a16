"""What a model call costs on this machine, and the padding rule that follows from it.

On a CPU a BERT call costs a fixed part plus the same for every token it reads, padding
included: what batching saves is the fixed part. So a text joins a batch only while the padding
it adds costs less than a call of its own, i.e. at most (cost per call / cost per token) tokens.
That ratio depends on the machine (3.5 ms + 1.25 ms a token, about 3 tokens, for BERT-base int8
on one thread of an AVX2 EPYC; 8 ms + 0.35 ms, about 23 tokens, on an AMX Xeon), so the engine
measures it at start-up (`costs_fit`) and sets `max_padding_tokens` from it.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CallCost:
    """What one model call costs on this machine: a fixed part and a part per padded token."""

    call_seconds: float
    token_seconds: float

    @property
    def padding_tokens(self) -> int:
        """Return the most padding a text may add to a batch: what a call of its own costs."""
        if self.token_seconds <= 0:
            return MAX_PADDING_TOKENS
        return max(0, min(MAX_PADDING_TOKENS, round(self.call_seconds / self.token_seconds)))


# However cheap tokens look next to a call, padding a text to more than this many extra tokens
# measured nothing real (timer noise on a tiny model).
MAX_PADDING_TOKENS = 64


def costs_fit(*, samples: Sequence[tuple[int, float]]) -> CallCost:
    """Fit seconds = call + tokens x per-token to (padded tokens, seconds) samples."""
    if len({tokens for tokens, _seconds in samples}) < 2:
        raise ValueError("need samples of at least two sizes")
    count = len(samples)
    mean_tokens = sum(tokens for tokens, _ in samples) / count
    mean_seconds = sum(seconds for _, seconds in samples) / count
    spread = sum((tokens - mean_tokens) ** 2 for tokens, _ in samples)
    token_seconds = (
        sum((tokens - mean_tokens) * (seconds - mean_seconds) for tokens, seconds in samples)
        / spread
    )
    token_seconds = max(token_seconds, 0.0)
    call_seconds = max(mean_seconds - token_seconds * mean_tokens, 0.0)
    return CallCost(call_seconds=call_seconds, token_seconds=token_seconds)
