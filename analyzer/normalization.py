"""Undo the disguises people put on words, keeping an exact map back to the original text.

People who want to insult get past filters by disguising words: zero-width characters between
the letters, full-width or look-alike Cyrillic letters, s p a c e d letters, m0r0n, stuuuupid.
`normalized()` returns the text the model should score and, for each of its characters, the
span of the original text that produced it, so explanations can highlight the original.

Each repair is made only where the original is not a real word and the repair is one, so
clean text (Scunthorpe, "4.2", "v2", URLs, emoji, Russian or Greek text) stays as it is.
"Real word" means an English word that the `wordfreq` package counts often enough.
"""

import functools
import itertools
import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

# Zipf frequency (log10 of uses per billion words) from which a token counts as in use as it
# stands (so it is never repaired): 2.0 keeps "sooo", "b4", "3am", "v2" and place names.
KNOWN_ZIPF = 2.0
# Zipf frequency from which a repair's result counts as a real word. Higher than KNOWN_ZIPF so
# a repair lands on a word people actually write ("loser", "wanker"), not on noise.
WORD_ZIPF = 2.5
# Splitting s p a c e d letters into several words uses only common words, so a run that
# spells nothing is not forced into a string of rare ones.
SEGMENT_ZIPF = 3.0
SEGMENT_TWO_LETTER_ZIPF = 4.5
SEGMENT_MAX_WORD = 20
SEGMENT_MAX_RUN = 60
# Bounds the candidates tried for one disguised token (each `1` doubles them, each `*` x26).
MAX_CANDIDATES = 4096

# Always invisible, and meaningless inside a word: soft hyphen, Arabic letter mark, Mongolian
# vowel separator, zero-width space, LRM/RLM, bidi embeddings, overrides and isolates, word
# joiner and invisible operators, zero-width no-break space.
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Joiners shape Persian and Indic words and emoji sequences: removed only inside Latin words.
_JOINERS = frozenset("\u034f\u200c\u200d")
# Variation selectors pick emoji presentation; after a Latin letter they only hide it.
_SELECTORS = frozenset(chr(code) for code in range(0xFE00, 0xFE10))
# Overlays and underlines that "strikethrough" and "underline" text generators put on letters.
_DECORATIVE_MARKS = frozenset("\u0305\u0332\u0333\u0334\u0335\u0336\u0337\u0338\u033f\u20d2")
# More marks than this on one Latin letter is "Zalgo" text; Latin-script writing hardly
# ever stacks three (Vietnamese, with the most, stacks two).
_MAX_MARKS_ON_A_LETTER = 2
_HIDING = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufe00-\ufe0f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)

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
_NUMBERS = re.compile(r"\d[\d.,]+")
# "3am", "10pm", "1st", "5kg", "100mb": a number and its unit, not a disguised word.
_NUMBER_AND_UNIT = re.compile(
    r"\d+(?:st|nd|rd|th|s|am|pm|k|m|b|g|x|d|p|kg|km|cm|mm|ml|mg|gb|mb|kb|tb|hz|khz|mhz|ghz"
    r"|ft|in|yr|yrs|min|h|hr|hrs|mph|fps|px|pt|v|w|kw|kwh|mah|c|f|l)"
)
# "web3", "python3", "ipv6", "mp3": a name and its version number.
_NAME_AND_VERSION = re.compile(r"([a-z]+)\d+")
_CURRENCY = re.compile(r"[a-z]{1,3}\$[\d.,]*")
# Three or more single letters, one or two spaces apart. Token characters on either side
# make a letter part of a token, not a single letter.
_SPACED_RUN = re.compile(r"(?<![\w@$*!])[A-Za-z0-9@$](?: {1,2}[A-Za-z0-9@$](?![\w@$*!])){2,}")
_URL_OR_EMAIL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)


class _Edit(NamedTuple):
    """Replace text[start:end] with `replacement`."""

    start: int
    end: int
    replacement: str
    # Character for character (same length): each new character maps to the one it replaces.
    # Otherwise every new character maps to all of what the edit replaces.
    charwise: bool = False


@dataclass(frozen=True, slots=True)
class Normalized:
    """A text as the model should score it, and the way back to the original's offsets."""

    original: str
    text: str
    changed: bool
    # For each character of `text`, the original span that produced it; empty when unchanged.
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    def original_span(self, *, start: int, end: int) -> tuple[int, int]:
        """Return the span of the original text that produced text[start:end]."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}..{end} is outside a text of {len(self.text)}")
        if not self.changed:
            return start, end
        if start == end:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]


class _Draft:
    """The text being normalized, with the original span of each of its characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None  # None while the text is still the original
        self.ends: list[int] | None = None

    def apply(self, edits: list[_Edit]) -> bool:
        """Apply non-overlapping edits, sorted by start; return whether anything changed."""
        if not edits:
            return False
        text = self.text
        starts = self.starts if self.starts is not None else list(range(len(text)))
        ends = self.ends if self.ends is not None else list(range(1, len(text) + 1))
        pieces: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        done = 0
        for start, end, replacement, charwise in edits:
            pieces.append(text[done:start])
            new_starts += starts[done:start]
            new_ends += ends[done:start]
            pieces.append(replacement)
            if charwise:
                new_starts += starts[start:end]
                new_ends += ends[start:end]
            elif replacement:
                # Each new character comes from all of what it replaces, so spans stay exact.
                new_starts += [starts[start]] * len(replacement)
                new_ends += [ends[end - 1]] * len(replacement)
            done = end
        pieces.append(text[done:])
        new_starts += starts[done:]
        new_ends += ends[done:]
        self.text = "".join(pieces)
        self.starts, self.ends = new_starts, new_ends
        return True


def normalized(*, text: str) -> Normalized:
    """Return the text with disguises undone, and the map back to the original."""
    draft = _Draft(text)
    # Removing a hidden character can let NFKC compose what it separated, and NFKC can put a
    # Latin letter under a mark that only then counts as decoration: repeat until both rest.
    for _ in range(4):
        hidden = draft.apply(_hiding_edits(draft.text))
        composed = draft.apply(_nfkc_edits(draft.text))
        if not (hidden or composed):
            break
    draft.apply(_look_alike_edits(draft.text))
    draft.apply(_spaced_letter_edits(draft.text))
    draft.apply(_disguised_word_edits(draft.text))
    if draft.text == text:
        return Normalized(original=text, text=text, changed=False)
    assert draft.starts is not None and draft.ends is not None
    return Normalized(
        original=text,
        text=draft.text,
        changed=True,
        starts=tuple(draft.starts),
        ends=tuple(draft.ends),
    )


def normalizer_warm() -> None:
    """Load the word list and the look-alike table now rather than on the first request."""
    _lexicon()
    _segment_words()
    _look_alikes()


# Invisible characters and decoration


def _is_latin_letter(char: str) -> bool:
    return (char.isascii() and char.isalpha()) or (char.isalpha() and _is_latin_script(char))


@functools.lru_cache(maxsize=4096)
def _is_latin_script(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _hiding_edits(text: str) -> list[_Edit]:
    if text.isascii():
        return []
    edits: list[_Edit] = []
    for match in _HIDING.finditer(text):
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        inside_word = _in_latin_word(before) and _in_latin_word(after)
        # Look-alikes count as Latin here: they become Latin letters later on, and what
        # follows them must go now, not on the next pass.
        after_letter = before.isalpha() and (_is_latin_letter(before) or before in _look_alikes())
        marks = sum(1 for char in match.group() if unicodedata.combining(char))
        zalgo = after_letter and marks > _MAX_MARKS_ON_A_LETTER
        for offset, char in enumerate(match.group()):
            at = match.start() + offset
            if (
                char in _INVISIBLE
                or (char in _JOINERS and inside_word)
                or (char in _SELECTORS and after_letter)
                or (after_letter and (zalgo or char in _DECORATIVE_MARKS))
            ):
                edits.append(_Edit(at, at + 1, ""))
    return edits


def _in_latin_word(char: str) -> bool:
    return bool(char) and (
        (char.isascii() and char.isalnum()) or _is_latin_letter(char) or char in _look_alikes()
    )


def _nfkc_edits(text: str) -> list[_Edit]:
    if unicodedata.is_normalized("NFKC", text):
        return []
    whole = unicodedata.normalize("NFKC", text)
    # NFKC works on a letter and the marks after it; normalizing such clusters one by one
    # keeps each output character tied to its own cluster. When composition reaches across
    # clusters (Hangul jamo, some Indic vowels), fall back to whitespace-separated chunks,
    # which NFKC never joins, and in the worst case to the whole text.
    edits = _cluster_edits(text)
    if _edited(text, edits) == whole:
        return edits
    edits = []
    for start, end in _chunks(text):
        chunk = unicodedata.normalize("NFKC", text[start:end])
        if chunk != text[start:end]:
            edits.append(_Edit(start, end, chunk))
    if _edited(text, edits) == whole:
        return edits
    return [_Edit(0, len(text), whole)]


def _cluster_edits(text: str) -> list[_Edit]:
    edits: list[_Edit] = []
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
            edits.append(_Edit(start, end, output))
    _flush(edits, text, run_start, run)
    return edits


def _flush(edits: list[_Edit], text: str, start: int, run: list[str]) -> None:
    replacement = "".join(run)
    if replacement != text[start : start + len(run)]:
        edits.append(_Edit(start, start + len(run), replacement, charwise=True))


def _edited(text: str, edits: list[_Edit]) -> str:
    pieces: list[str] = []
    done = 0
    for edit in edits:
        pieces += (text[done : edit.start], edit.replacement)
        done = edit.end
    pieces.append(text[done:])
    return "".join(pieces)


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


# Look-alike letters


@functools.cache
def _look_alikes() -> dict[str, str]:
    """Return the Latin letter each look-alike letter of another script stands for."""
    # Unicode's confusables.txt, as the confusable-homoglyphs package ships it: each
    # character maps to its prototype, the character it is meant to be confused with.
    from confusable_homoglyphs.confusables import confusables_data

    table: dict[str, str] = {}
    for char, homoglyphs in confusables_data.items():
        if len(char) != 1 or not char.isalpha() or _is_plain_latin(char) or len(homoglyphs) != 1:
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


def _is_plain_latin(char: str) -> bool:
    """Return whether a letter is ASCII or Latin-1 to Latin Extended-B, as languages write."""
    return char.isascii() or (0xC0 <= ord(char) <= 0x24F)


def _look_alike_edits(text: str) -> list[_Edit]:
    if text.isascii():
        return []
    table = _look_alikes()
    present = [char for char in set(text) if char in table]
    if not present:
        return []
    other_script_letters: int | None = None
    latin_letters = 0
    protected: list[tuple[int, int]] | None = None
    edits: list[_Edit] = []
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
            protected = _protected_spans(text)
        if _overlaps((word_start, word_end), protected):
            continue
        for offset, letter in folds:
            at = word_start + offset
            edits.append(_Edit(at, at + 1, letter))
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
    return char.isalnum() or _is_mark(char)


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
        followed_by_mark = bool(next_char) and _is_mark(next_char)
        if char in table and not followed_by_mark:
            folds.append((offset, table[char]))
            latin += _is_latin_script(char)  # small capitals are Latin already
        elif _is_latin_letter(char):
            latin += 1
        else:
            # Letters of other scripts, and look-alikes under a mark: folding one of those
            # would let NFKC compose a new letter on the next pass.
            other += 1
    return folds, latin, other


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _script_counts(text: str, table: dict[str, str]) -> tuple[int, int]:
    """Return the letters of other scripts (not look-alikes), and the Latin letters."""
    other = latin = 0
    for char in text:
        if not char.isalpha():
            continue
        if char in table:
            latin += _is_latin_script(char)
        elif _is_latin_letter(char):
            latin += 1
        else:
            other += 1
    return other, latin


# S p a c e d letters


def _spaced_letter_edits(text: str) -> list[_Edit]:
    edits: list[_Edit] = []
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
                    edits.append(_Edit(previous + 1, at, ""))
    return edits


def _spaced_runs(text: str) -> Iterator[list[int]]:
    """Yield the positions of 3 or more single letters separated by one or two spaces."""
    for match in _SPACED_RUN.finditer(text):
        run = [at for at in range(match.start(), match.end()) if text[at] != " "]
        if match.end() < len(text) and _is_mark(text[match.end()]):
            run.pop()  # a letter under a mark is not a plain letter
        if len(run) >= 3:
            yield run


def _spaced_word_breaks(letters: str) -> frozenset[int] | None:
    """Return where spaced letters split into real words (empty: one word), None if they don't."""
    if sum(char.isalpha() for char in letters) < 2:
        return None
    lower = letters.lower()
    if _is_word(lower) or _repaired(letters) is not None:
        return frozenset()
    if letters.isalpha() and len(letters) >= 4:
        return _segmented(lower)
    return None


def _segmented(letters: str) -> frozenset[int] | None:
    """Return the word breaks of the likeliest split into two or more common words."""
    if len(letters) > SEGMENT_MAX_RUN:
        return None
    words = _segment_words()
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


# Disguised words: m0r0n, stuuuupid, f*ck


def _disguised_word_edits(text: str) -> list[_Edit]:
    if not _REPAIR_HINT.search(text):
        return []
    protected: list[tuple[int, int]] | None = None
    edits: list[_Edit] = []
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
        repair = _repaired(token)
        if repair is None:
            continue
        if protected is None:
            protected = _protected_spans(text)
        at = token_start + start
        if _overlaps((at, at + len(token)), protected):
            continue
        for offset, (before, after) in enumerate(zip(token, repair, strict=True)):
            if before != after:
                edits.append(_Edit(at + offset, at + offset + 1, after))
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
        or char in _JOINERS
        or char in _SELECTORS
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
def _repaired(token: str) -> tuple[str, ...] | None:
    """Return each character's repair (empty: dropped) if the token is a disguised word."""
    lower = token.lower()
    if not any("a" <= char <= "z" for char in lower) or _known(lower):
        return None
    if _NUMBER_AND_UNIT.fullmatch(lower) or _is_name_and_version(lower):
        return None
    if lower[0] == "@" and len(lower) > 3 and _known(lower[1:]):
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
        if len(word) >= 2 and _is_word(word):
            zipf = _lexicon()[word]
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


def _protected_spans(text: str) -> list[tuple[int, int]]:
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return []
    return [match.span() for match in _URL_OR_EMAIL.finditer(text)]


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


# The word list


@functools.cache
def _lexicon() -> dict[str, float]:
    """Return the Zipf frequency of each English word or token in common enough use."""
    # wordfreq ships its word lists inside the package (no download); imported here so only
    # processes that normalize pay for it.
    import wordfreq

    # Read the file directly: get_frequency_list() would keep all 320,000 words cached.
    bins = wordfreq.read_cBpack(wordfreq.available_languages("large")["en"])
    lexicon: dict[str, float] = {}
    for index, words in enumerate(bins):
        zipf = 9 - index / 100  # each bin is one centibel of frequency
        if zipf < KNOWN_ZIPF:
            break
        for word in words:
            if word.isascii() and word.isalnum():
                lexicon[word] = zipf
    return lexicon


def _known(lower: str) -> bool:
    """Return whether a token is in common use as it stands, numbers counted as wordfreq does."""
    if any(char.isdigit() for char in lower):
        # wordfreq stores "10am" as "00am": numbers of two or more digits become zeros.
        lower = _NUMBERS.sub(lambda match: re.sub(r"\d", "0", match.group()), lower)
    return lower in _lexicon()


def _is_word(lower: str) -> bool:
    return lower.isalpha() and _lexicon().get(lower, 0.0) >= WORD_ZIPF


@functools.cache
def _segment_words() -> dict[str, float]:
    words = {
        word: zipf
        for word, zipf in _lexicon().items()
        if word.isalpha()
        and (
            (len(word) > 2 and zipf >= SEGMENT_ZIPF)
            or (len(word) == 2 and zipf >= SEGMENT_TWO_LETTER_ZIPF)
        )
    }
    words["a"] = _lexicon()["a"]
    words["i"] = _lexicon()["i"]
    return words
