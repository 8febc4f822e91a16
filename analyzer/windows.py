"""Split long texts into overlapping token windows and merge their scores.

A model reads at most its maximum length (512 tokens for each Detoxify model, see
`model_max_tokens`) less its own special tokens, which each engine asks its tokenizer for.
Cutting the rest off would hide an insult at the end of a long comment, so a long text is read
as overlapping windows and each label keeps its highest score over the windows.
"""

from collections.abc import Iterable, Mapping, Sequence

# Tokens shared by neighbouring windows, so a phrase cut by one window is whole in the next.
DEFAULT_OVERLAP = 64
# Tokens a window's text may gain when tokenized again on its own: a word cut at the window's
# edge splits into more pieces, and RoBERTa's first word loses the space its piece starts with.
# Windows are cut this much short, so the model's limit never truncates the end of a text.
RETOKENIZE_SLACK = 4
# Model types whose position ids start after the padding id (fairseq's convention): the first
# pad_token_id + 1 rows of their position table are never used for a token.
POSITIONS_AFTER_PADDING = frozenset({"roberta", "xlm-roberta", "camembert"})


def model_max_tokens(
    *,
    model_type: str,
    max_position_embeddings: int,
    pad_token_id: int | None,
    tokenizer_max_length: int,
) -> int:
    """Return how many tokens, special tokens included, one window of the model may hold.

    RoBERTa and XLM-R have 514 position rows, but their positions count from the padding id
    (1) + 1, so they hold 512 tokens. Their tokenizers on the hub often do not say so (an unset
    maximum reads as 10^30), hence the config, not the tokenizer, has the last word.
    """
    positions = max_position_embeddings
    if model_type in POSITIONS_AFTER_PADDING and pad_token_id is not None:
        positions -= pad_token_id + 1
    return min(positions, tokenizer_max_length)


def window_spans(
    offsets: Sequence[tuple[int, int]],
    *,
    max_tokens: int,
    overlap: int | None = None,
) -> list[tuple[int, int]]:
    """Return character spans of overlapping windows of at most max_tokens tokens each.

    `offsets` are the (start, end) character offsets of the text's tokens, without special
    tokens. A text that fits gives one window, from its first to its last token. The overlap
    defaults to 64 tokens, or a quarter of a window when windows are small.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if overlap is None:
        overlap = min(DEFAULT_OVERLAP, max_tokens // 4)
    if not 0 <= overlap < max_tokens:
        raise ValueError("overlap must be smaller than max_tokens")
    if not offsets:
        return []
    stride = max_tokens - overlap
    spans = []
    first = 0
    while True:
        last = min(first + max_tokens, len(offsets)) - 1
        spans.append((offsets[first][0], offsets[last][1]))
        if last == len(offsets) - 1:
            return spans
        first += stride


def max_over_windows(window_scores: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Return each label's highest score over the windows, keeping the label order."""
    merged: dict[str, float] = {}
    for scores in window_scores:
        for label, score in scores.items():
            merged[label] = max(score, merged.get(label, score))
    if not merged:
        raise ValueError("no windows to merge")
    return merged
