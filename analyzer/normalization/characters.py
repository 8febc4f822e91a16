"""Remove hidden characters and decoration from words, and fold compatibility forms (NFKC).

Zero-width and bidirectional control characters, soft hyphens, strike-through marks and Zalgo
stacks hide a word from a filter without changing how it reads; NFKC turns full-width and
mathematical bold letters and ligatures (the "fi" in one character) into plain ones.
"""

import re
import unicodedata
from collections.abc import Iterator

from analyzer.normalization.edits import Edit, edited
from analyzer.normalization.look_alikes import look_alike_table
from analyzer.normalization.scripts import is_latin_letter

# Always invisible, and meaningless inside a word: soft hyphen, Arabic letter mark, Mongolian
# vowel separator, zero-width space, LRM/RLM, bidi embeddings, overrides and isolates, word
# joiner and invisible operators, zero-width no-break space.
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Joiners shape Persian and Indic words and emoji sequences: removed only inside Latin words.
JOINERS = frozenset("\u034f\u200c\u200d")
# Variation selectors pick emoji presentation; after a Latin letter they only hide it.
SELECTORS = frozenset(chr(code) for code in range(0xFE00, 0xFE10))
# Overlays and underlines that "strikethrough" and "underline" text generators put on letters.
_DECORATIVE_MARKS = frozenset("\u0305\u0332\u0333\u0334\u0335\u0336\u0337\u0338\u033f\u20d2")
# More marks than this on one Latin letter is "Zalgo" text; Latin-script writing hardly
# ever stacks three (Vietnamese, with the most, stacks two).
_MAX_MARKS_ON_A_LETTER = 2
_HIDING = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufe00-\ufe0f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def hiding_edits(text: str) -> list[Edit]:
    """Return the edits that remove hidden characters and decoration from Latin words."""
    if text.isascii():
        return []
    look_alikes = look_alike_table()
    edits: list[Edit] = []
    for match in _HIDING.finditer(text):
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        inside_word = _in_latin_word(before) and _in_latin_word(after)
        # Look-alikes count as Latin here: they become Latin letters later on, and what
        # follows them must go now, not on the next pass.
        after_letter = before.isalpha() and (is_latin_letter(before) or before in look_alikes)
        marks = sum(1 for char in match.group() if unicodedata.combining(char))
        zalgo = after_letter and marks > _MAX_MARKS_ON_A_LETTER
        for offset, char in enumerate(match.group()):
            at = match.start() + offset
            if (
                char in _INVISIBLE
                or (char in JOINERS and inside_word)
                or (char in SELECTORS and after_letter)
                or (after_letter and (zalgo or char in _DECORATIVE_MARKS))
            ):
                edits.append(Edit(at, at + 1, ""))
    return edits


def _in_latin_word(char: str) -> bool:
    return bool(char) and (
        (char.isascii() and char.isalnum()) or is_latin_letter(char) or char in look_alike_table()
    )


def nfkc_edits(text: str) -> list[Edit]:
    """Return the edits that make the text NFKC, each tied to the characters it replaces."""
    if unicodedata.is_normalized("NFKC", text):
        return []
    whole = unicodedata.normalize("NFKC", text)
    # NFKC works on a letter and the marks after it; normalizing such clusters one by one
    # keeps each output character tied to its own cluster. When composition reaches across
    # clusters (Hangul jamo, some Indic vowels), fall back to whitespace-separated chunks,
    # which NFKC never joins, and in the worst case to the whole text.
    edits = _cluster_edits(text)
    if edited(text, edits) == whole:
        return edits
    edits = []
    for start, end in _chunks(text):
        chunk = unicodedata.normalize("NFKC", text[start:end])
        if chunk != text[start:end]:
            edits.append(Edit(start, end, chunk))
    if edited(text, edits) == whole:
        return edits
    return [Edit(0, len(text), whole)]


def _cluster_edits(text: str) -> list[Edit]:
    edits: list[Edit] = []
    # Runs of one-character clusters that stay one character (full-width letters, and ASCII,
    # which NFKC keeps) make one character-for-character edit rather than one edit each.
    run_start = 0
    run: list[str] = []
    for start, end in _clusters(text):
        piece = text[start:end]
        output = piece if piece.isascii() else unicodedata.normalize("NFKC", piece)
        if end - start == 1 and len(output) == 1:
            if not run:
                run_start = start
            run.append(output)
            continue
        _flush(edits, text, run_start, run)
        run = []
        if output != piece:
            edits.append(Edit(start, end, output))
    _flush(edits, text, run_start, run)
    return edits


def _flush(edits: list[Edit], text: str, start: int, run: list[str]) -> None:
    replacement = "".join(run)
    if replacement != text[start : start + len(run)]:
        edits.append(Edit(start, start + len(run), replacement, charwise=True))


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Yield the spans of each character with the combining marks after it."""
    cluster_start = 0
    for at in range(1, len(text)):
        if not unicodedata.combining(text[at]):
            yield cluster_start, at
            cluster_start = at
    if text:
        yield cluster_start, len(text)


def _chunks(text: str) -> Iterator[tuple[int, int]]:
    for match in re.finditer(r"\s+|\S+", text):
        yield match.span()
