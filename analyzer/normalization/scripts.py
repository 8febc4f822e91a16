"""Tell which script a letter belongs to, and whether a character is a combining mark."""

import functools
import unicodedata


def is_latin_letter(char: str) -> bool:
    """Return whether a character is a letter of the Latin script, accented or not."""
    return (char.isascii() and char.isalpha()) or (char.isalpha() and is_latin_script(char))


@functools.lru_cache(maxsize=4096)
def is_latin_script(char: str) -> bool:
    """Return whether Unicode names the character as Latin."""
    return unicodedata.name(char, "").startswith("LATIN")


def is_plain_latin(char: str) -> bool:
    """Return whether a letter is ASCII or Latin-1 to Latin Extended-B, as languages write."""
    return char.isascii() or (0xC0 <= ord(char) <= 0x24F)


def is_mark(char: str) -> bool:
    """Return whether a character is a mark (combining, enclosing or spacing)."""
    return unicodedata.category(char).startswith("M")
