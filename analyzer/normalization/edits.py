"""Edit a text while keeping, for each new character, the span of the original it came from.

Every step of normalization proposes edits; `Draft` applies them and carries the map, and
`Normalized` is what the steps hand back: the text to score and the way back to the original.
"""

from dataclasses import dataclass
from typing import NamedTuple


class Edit(NamedTuple):
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


class Draft:
    """The text being normalized, with the original span of each of its characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None  # None while the text is still the original
        self.ends: list[int] | None = None

    def apply(self, edits: list[Edit]) -> bool:
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


def edited(text: str, edits: list[Edit]) -> str:
    """Return the text with non-overlapping edits, sorted by start, applied."""
    pieces: list[str] = []
    done = 0
    for edit in edits:
        pieces += (text[done : edit.start], edit.replacement)
        done = edit.end
    pieces.append(text[done:])
    return "".join(pieces)
