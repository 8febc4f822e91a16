"""Find the spans no repair may touch: web addresses and email addresses."""

import re

_URL_OR_EMAIL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of the URLs and email addresses in the text."""
    if "@" not in text and "://" not in text and "www." not in text.lower():
        return []
    return [match.span() for match in _URL_OR_EMAIL.finditer(text)]


def overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Return whether a span shares a character with any of the spans."""
    return any(span[0] < end and start < span[1] for start, end in spans)
