"""Fold look-alike letters (Cyrillic and Greek o, small capital M) into the Latin ones.

Only inside Latin words, or in a text whose letters are all Latin: in Russian or Greek text a
word made of look-alikes is a Russian or Greek word, and stays one.
"""

import functools
import re
import unicodedata

from analyzer.normalization.edits import Edit
from analyzer.normalization.protected import overlaps, protected_spans
from analyzer.normalization.scripts import is_latin_letter, is_latin_script, is_mark, is_plain_latin


@functools.cache
def look_alike_table() -> dict[str, str]:
    """Return the Latin letter each look-alike letter of another script stands for."""
    # Unicode's confusables.txt, as the confusable-homoglyphs package ships it: each
    # character maps to its prototype, the character it is meant to be confused with.
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[str, str] = {}
    for char, homoglyphs in confusables_data.items():
        if len(char) != 1 or not char.isalpha() or is_plain_latin(char) or len(homoglyphs) != 1:
            continue
        prototype = homoglyphs[0]["c"]
        if len(prototype) == 1 and prototype.isascii() and prototype.isalpha():
            # Capital I's prototype is small l ("I" and "l" look alike); a capital stays one.
            table[char] = "I" if char.isupper() and prototype == "l" else prototype
    # Small capitals ("ᴍᴏʀᴏɴ") come from "small caps" text generators, not from any language.
    for code in range(0x1D00, 0x1D2C):
        name = unicodedata.name(chr(code), "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name.split()[-1]) == 1:
            table.setdefault(chr(code), name.split()[-1].lower())
    for char in "ʀʙɢʜɪʟɴʏ":
        table.setdefault(char, unicodedata.name(char).split()[-1].lower())
    return table


def look_alike_edits(text: str) -> list[Edit]:
    """Return the edits that fold look-alike letters into the Latin letters they stand for."""
    if text.isascii():
        return []
    table = look_alike_table()
    present = [char for char in set(text) if char in table]
    if not present:
        return []
    other_script_letters: int | None = None
    latin_letters = 0
    protected: list[tuple[int, int]] | None = None
    edits: list[Edit] = []
    word_end = 0
    for found in re.finditer("[" + re.escape("".join(present)) + "]", text):
        if found.start() < word_end:
            continue  # in the word just looked at
        word_start, word_end = _word_around(text, found.start())
        word = text[word_start:word_end]
        following = text[word_end] if word_end < len(text) else ""
        folds, latin, other = _word_scripts(word, following, table)
        if not folds or other:
            continue
        if not latin:
            # A word made only of look-alikes is folded only in a text whose other letters
            # are all Latin: in Russian or Greek text it is a Russian or Greek word. Both
            # counts hold across normalizing again, so normalizing stays idempotent.
            if other_script_letters is None:
                other_script_letters, latin_letters = _script_counts(text, table)
            if other_script_letters or not latin_letters:
                continue
        if protected is None:
            protected = protected_spans(text)
        if overlaps((word_start, word_end), protected):
            continue
        for offset, letter in folds:
            at = word_start + offset
            edits.append(Edit(at, at + 1, letter))
    return edits


def _word_around(text: str, at: int) -> tuple[int, int]:
    """Return the span of the word (letters, digits and their marks) holding text[at]."""
    start = at
    while start and _in_word(text[start - 1]):
        start -= 1
    end = at + 1
    while end < len(text) and _in_word(text[end]):
        end += 1
    return start, end


def _in_word(char: str) -> bool:
    return char.isalnum() or is_mark(char)


def _word_scripts(
    word: str, following: str, table: dict[str, str]
) -> tuple[list[tuple[int, str]], int, int]:
    """Return the look-alikes to fold, the number of Latin letters and of other letters."""
    folds: list[tuple[int, str]] = []
    latin = other = 0
    for offset, char in enumerate(word):
        if not char.isalpha():
            continue
        next_char = word[offset + 1] if offset + 1 < len(word) else following
        followed_by_mark = bool(next_char) and is_mark(next_char)
        if char in table and not followed_by_mark:
            folds.append((offset, table[char]))
            latin += is_latin_script(char)  # small capitals are Latin already
        elif is_latin_letter(char):
            latin += 1
        else:
            # Letters of other scripts, and look-alikes under a mark: folding one of those
            # would let NFKC compose a new letter on the next pass.
            other += 1
    return folds, latin, other


def _script_counts(text: str, table: dict[str, str]) -> tuple[int, int]:
    """Return the letters of other scripts (not look-alikes), and the Latin letters."""
    other = latin = 0
    for char in text:
        if not char.isalpha():
            continue
        if char in table:
            latin += is_latin_script(char)
        elif is_latin_letter(char):
            latin += 1
        else:
            other += 1
    return other, latin
