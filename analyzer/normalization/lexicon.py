"""Tell real English words from noise, by how often wordfreq counts them.

A repair is made only where the original is not a word in use and the repair is one; these
thresholds say what "in use" and "a word" mean.
"""

import functools
import re

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

_NUMBERS = re.compile(r"\d[\d.,]+")


@functools.cache
def english_words() -> dict[str, float]:
    """Return the Zipf frequency of each English word or token in common enough use."""
    # wordfreq ships its word lists inside the package (no download); imported here so only
    # processes that normalize pay for it.
    import wordfreq

    # Read the file directly: get_frequency_list() would keep all 320,000 words cached.
    bins = wordfreq.read_cBpack(wordfreq.available_languages("large")["en"])
    words: dict[str, float] = {}
    for index, bin_words in enumerate(bins):
        zipf = 9 - index / 100  # each bin is one centibel of frequency
        if zipf < KNOWN_ZIPF:
            break
        for word in bin_words:
            if word.isascii() and word.isalnum():
                words[word] = zipf
    return words


def known(lower: str) -> bool:
    """Return whether a token is in common use as it stands, numbers counted as wordfreq does."""
    if any(char.isdigit() for char in lower):
        # wordfreq stores "10am" as "00am": numbers of two or more digits become zeros.
        lower = _NUMBERS.sub(lambda match: re.sub(r"\d", "0", match.group()), lower)
    return lower in english_words()


def is_word(lower: str) -> bool:
    """Return whether a lower-case string is a real word, common enough to repair into."""
    return lower.isalpha() and english_words().get(lower, 0.0) >= WORD_ZIPF


@functools.cache
def segment_words() -> dict[str, float]:
    """Return the words s p a c e d letters may be split into, with their Zipf frequency."""
    words = {
        word: zipf
        for word, zipf in english_words().items()
        if word.isalpha()
        and (
            (len(word) > 2 and zipf >= SEGMENT_ZIPF)
            or (len(word) == 2 and zipf >= SEGMENT_TWO_LETTER_ZIPF)
        )
    }
    words["a"] = english_words()["a"]
    words["i"] = english_words()["i"]
    return words
