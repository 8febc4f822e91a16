"""Join s p a c e d letters back into the words they spell, and only when they spell words.

A double space between spaced letters is a word break; a run without breaks ("y o u a r e")
is split into the likeliest string of common words, or left alone if it spells none.
"""

import itertools
import re
from collections.abc import Iterator

from analyzer.normalization.disguised_words import repaired
from analyzer.normalization.edits import Edit
from analyzer.normalization.lexicon import is_word, segment_words
from analyzer.normalization.scripts import is_mark

# Splitting a run tries words of up to SEGMENT_MAX_WORD letters at each place, and runs longer
# than SEGMENT_MAX_RUN are left as they are: the work grows with both.
SEGMENT_MAX_WORD = 20
SEGMENT_MAX_RUN = 60

# Three or more single letters, one or two spaces apart. Token characters on either side
# make a letter part of a token, not a single letter.
_SPACED_RUN = re.compile(r"(?<![\w@$*!])[A-Za-z0-9@$](?: {1,2}[A-Za-z0-9@$](?![\w@$*!])){2,}")


def spaced_letter_edits(text: str) -> list[Edit]:
    """Return the edits that remove the spaces inside spaced-out words."""
    edits: list[Edit] = []
    for run in _spaced_runs(text):
        # A double space between spaced letters is a word break.
        words: list[list[int]] = [[run[0]]]
        for previous, at in itertools.pairwise(run):
            if at - previous == 3:
                words.append([at])
            else:
                words[-1].append(at)
        for positions in words:
            if len(positions) < 2:
                continue
            letters = "".join(text[at] for at in positions)
            breaks = _spaced_word_breaks(letters)
            if breaks is None:
                continue
            for index, (previous, at) in enumerate(itertools.pairwise(positions), start=1):
                if index not in breaks:
                    edits.append(Edit(previous + 1, at, ""))
    return edits


def _spaced_runs(text: str) -> Iterator[list[int]]:
    """Yield the positions of 3 or more single letters separated by one or two spaces."""
    for match in _SPACED_RUN.finditer(text):
        run = [at for at in range(match.start(), match.end()) if text[at] != " "]
        if match.end() < len(text) and is_mark(text[match.end()]):
            run.pop()  # a letter under a mark is not a plain letter
        if len(run) >= 3:
            yield run


def _spaced_word_breaks(letters: str) -> frozenset[int] | None:
    """Return where spaced letters split into real words (empty: one word), None if they don't."""
    if sum(char.isalpha() for char in letters) < 2:
        return None
    lower = letters.lower()
    if is_word(lower) or repaired(letters) is not None:
        return frozenset()
    if letters.isalpha() and len(letters) >= 4:
        return _segmented(lower)
    return None


def _segmented(letters: str) -> frozenset[int] | None:
    """Return the word breaks of the likeliest split into two or more common words."""
    if len(letters) > SEGMENT_MAX_RUN:
        return None
    words = segment_words()
    # best[end][last_was_single] = (log-probability, breaks) of the best split of letters[:end];
    # two one-letter words in a row are not allowed, or "a b c" would read as words.
    best: list[dict[bool, tuple[float, tuple[int, ...]]]] = [{} for _ in range(len(letters) + 1)]
    best[0][False] = (0.0, ())
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - SEGMENT_MAX_WORD), end):
            zipf = words.get(letters[start:end])
            if zipf is None:
                continue
            single = end - start == 1
            for last_was_single, (score, breaks) in best[start].items():
                if single and last_was_single:
                    continue
                candidate = (score + zipf - 9, (*breaks, start) if start else breaks)
                if single not in best[end] or candidate[0] > best[end][single][0]:
                    best[end][single] = candidate
    splits = best[len(letters)].values()
    if not splits:
        return None
    _, breaks = max(splits)
    return frozenset(breaks) if breaks else None
