"""Repair disguised words: stand-ins (m0r0n, a$$hole, f*ck) and stretched letters (stuuuupid).

A token is repaired only when it is not in use as it stands and a repair makes it a real word;
numbers with units, names with versions, mentions and currencies stay as they are.
"""

import functools
import itertools
import re
import string
import unicodedata

from analyzer.normalization.characters import JOINERS, SELECTORS
from analyzer.normalization.edits import Edit
from analyzer.normalization.lexicon import english_words, is_word, known
from analyzer.normalization.protected import overlaps, protected_spans

# Bounds the candidates tried for one disguised token (each `1` doubles them, each `*` x26).
MAX_CANDIDATES = 4096

# Letters and symbols standing in for letters in disguised words.
_STAND_INS = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "@": "a",
    "$": "s",
    "!": "i",
    "*": "abcdefghijklmnopqrstuvwxyz",
}
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "@$*!")
_REPAIR_HINT = re.compile(r"[0-9@$*!]|([A-Za-z])\1\1", re.IGNORECASE | re.ASCII)
_LETTER_RUN = re.compile(r"([A-Za-z])\1{2,}", re.IGNORECASE | re.ASCII)
# "3am", "10pm", "1st", "5kg", "100mb": a number and its unit, not a disguised word.
_NUMBER_AND_UNIT = re.compile(
    r"\d+(?:st|nd|rd|th|s|am|pm|k|m|b|g|x|d|p|kg|km|cm|mm|ml|mg|gb|mb|kb|tb|hz|khz|mhz|ghz"
    r"|ft|in|yr|yrs|min|h|hr|hrs|mph|fps|px|pt|v|w|kw|kwh|mah|c|f|l)"
)
# "web3", "python3", "ipv6", "mp3": a name and its version number.
_NAME_AND_VERSION = re.compile(r"([a-z]+)\d+")
_CURRENCY = re.compile(r"[a-z]{1,3}\$[\d.,]*")


def disguised_word_edits(text: str) -> list[Edit]:
    """Return the edits that turn each disguised word of the text into the word it hides."""
    if not _REPAIR_HINT.search(text):
        return []
    protected: list[tuple[int, int]] | None = None
    edits: list[Edit] = []
    token_end = 0
    for hint in _REPAIR_HINT.finditer(text):
        if hint.start() < token_end:
            continue  # in the token just looked at
        token_start, token_end = _token_around(text, hint.start())
        if not _stands_alone(text, token_start, token_end):
            continue
        start, end = _token_core(text[token_start:token_end])
        token = text[token_start + start : token_start + end]
        if len(token) < 3 or not _REPAIR_HINT.search(token):
            continue
        repair = repaired(token)
        if repair is None:
            continue
        if protected is None:
            protected = protected_spans(text)
        at = token_start + start
        if overlaps((at, at + len(token)), protected):
            continue
        for offset, (before, after) in enumerate(zip(token, repair, strict=True)):
            if before != after:
                edits.append(Edit(at + offset, at + offset + 1, after))
    return edits


def _token_around(text: str, at: int) -> tuple[int, int]:
    """Return the span of the token (letters, digits and stand-ins) holding text[at]."""
    start = at
    while start and text[start - 1] in _TOKEN_CHARACTERS:
        start -= 1
    end = at + 1
    while end < len(text) and text[end] in _TOKEN_CHARACTERS:
        end += 1
    return start, end


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Return whether the token is a whole word, not part of a longer word or identifier."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (_joins_words(before) or _joins_words(after))


def _joins_words(char: str) -> bool:
    """Return whether a character next to a token makes it part of a longer word."""
    # Joiners and selectors count: once the token's symbols become letters, a joiner kept
    # between a symbol and a letter would sit inside a Latin word and go on the next pass.
    return (
        char.isalnum()
        or char == "_"
        or bool(unicodedata.combining(char))
        or char in JOINERS
        or char in SELECTORS
    )


def _token_core(token: str) -> tuple[int, int]:
    """Return the token without the emphasis around it ("*really*", "wow!!", "hi@")."""
    start, end = 0, len(token)
    while start < end and token[start] in "*!":
        start += 1
    while end > start and token[end - 1] in "*!@":
        end -= 1
    return start, end


@functools.lru_cache(maxsize=8192)
def repaired(token: str) -> tuple[str, ...] | None:
    """Return each character's repair (empty: dropped) if the token is a disguised word."""
    lower = token.lower()
    if not any("a" <= char <= "z" for char in lower) or known(lower):
        return None
    if _NUMBER_AND_UNIT.fullmatch(lower) or _is_name_and_version(lower):
        return None
    if lower[0] == "@" and len(lower) > 3 and known(lower[1:]):
        return None  # "@men" is a mention, not "amen"
    if _CURRENCY.fullmatch(lower):
        return None  # "US$", "HK$5"
    letters = [char for char in token if char.isalpha()]
    shout = len(letters) >= 2 and all(char.isupper() for char in letters)
    options = _repair_options(token, shout=shout)
    count = 1
    for choice in options:
        count *= len(choice)
    if count > MAX_CANDIDATES:
        # Too many to try; not squeezing either keeps a second pass from trying fewer.
        return None
    best: tuple[float, tuple[str, ...]] | None = None
    for candidate in itertools.product(*options):
        word = "".join(candidate).lower()
        if len(word) >= 2 and is_word(word):
            zipf = english_words()[word]
            if best is None or zipf > best[0]:
                best = (zipf, candidate)
    if best is not None:
        return best[1]
    if _LETTER_RUN.search(token):
        # Not a word either way: still squeeze the stretch, as people would read it.
        return tuple(choice[-1] for choice in _repair_options(token, shout=shout, stand_ins=False))
    return None


def _repair_options(token: str, *, shout: bool, stand_ins: bool = True) -> list[tuple[str, ...]]:
    """Return, for each character, what it may stand for ("" for a dropped stretch letter)."""
    options: list[tuple[str, ...]] = []
    for offset, char in enumerate(token):
        if char.isalpha():
            run_start = offset
            while run_start and token[run_start - 1].lower() == char.lower():
                run_start -= 1
            place = offset - run_start
            if place and _run_total(token, offset) >= 3:
                # A stretch keeps one or two of its letters, the first ones.
                options.append(("", char) if place == 1 else ("",))
                continue
            options.append((char,))
        elif stand_ins and char in _STAND_INS:
            letters = _STAND_INS[char]
            options.append(tuple(letters.upper() if shout else letters))
        else:
            options.append((char,))
    return options


def _run_total(token: str, offset: int) -> int:
    """Return the length of the run of one letter (any case) that token[offset] is in."""
    char = token[offset].lower()
    start = offset
    while start and token[start - 1].lower() == char:
        start -= 1
    end = offset + 1
    while end < len(token) and token[end].lower() == char:
        end += 1
    return end - start


def _is_name_and_version(lower: str) -> bool:
    match = _NAME_AND_VERSION.fullmatch(lower)
    if match is None:
        return False
    name = match.group(1)
    # "a55" is a disguise; "web3", "mp3" and "x86" are names with a number.
    return len(name) >= 2 or any(char not in _STAND_INS for char in lower[len(name) :])
