"""Offsets in UTF-16 code units, the way JavaScript and Perspective count them.

Python indexes a string by code point; Perspective's span offsets, like a JavaScript string's
indexes, count UTF-16 code units, where a character beyond the Basic Multilingual Plane (most
emoji) takes two. Accented letters, whether precomposed or built with combining marks, count the
same in both.
"""

import bisect
import re
from collections.abc import Sequence

# Code points that UTF-16 stores as a surrogate pair.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def utf16_length(*, text: str) -> int:
    """Return the length of text in UTF-16 code units."""
    # surrogatepass keeps a lone surrogate (valid in a Python str decoded from JSON) as one unit.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offsets(*, text: str, offsets: Sequence[int]) -> list[int]:
    """Return each code-point offset into text as a UTF-16 code-unit offset."""
    for offset in offsets:
        if not 0 <= offset <= len(text):
            raise ValueError(f"offset {offset} is outside a text of length {len(text)}")
    if text.isascii():
        return list(offsets)
    # Each astral character before an offset adds one code unit; the positions are found once,
    # so a long text with many offsets costs one scan and a binary search per offset.
    astral = [match.start() for match in _ASTRAL.finditer(text)]
    return [offset + bisect.bisect_left(astral, offset) for offset in offsets]
