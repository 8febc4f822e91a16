"""Undo the disguises people put on words, keeping an exact map back to the original text.

People who want to insult get past filters by disguising words: zero-width characters between
the letters, full-width or look-alike Cyrillic letters, s p a c e d letters, m0r0n, stuuuupid.
`normalized()` returns the text the model should score and, for each of its characters, the
span of the original text that produced it, so explanations can highlight the original.

Each repair is made only where the original is not a real word and the repair is one, so
clean text (Scunthorpe, "4.2", "v2", URLs, emoji, Russian or Greek text) stays as it is.
"Real word" means an English word that the `wordfreq` package counts often enough.
docs/normalization.md describes each step, what it leaves alone, and what it costs.
"""

from analyzer.normalization.characters import hiding_edits, nfkc_edits
from analyzer.normalization.disguised_words import disguised_word_edits
from analyzer.normalization.edits import Draft, Normalized
from analyzer.normalization.lexicon import english_words, segment_words
from analyzer.normalization.look_alikes import look_alike_edits, look_alike_table
from analyzer.normalization.spaced_letters import spaced_letter_edits

__all__ = ["Normalized", "normalized", "normalizer_warm"]


def normalized(*, text: str) -> Normalized:
    """Return the text with disguises undone, and the map back to the original."""
    draft = Draft(text)
    # Removing a hidden character can let NFKC compose what it separated, and NFKC can put a
    # Latin letter under a mark that only then counts as decoration: repeat until both rest.
    for _ in range(4):
        hidden = draft.apply(hiding_edits(draft.text))
        composed = draft.apply(nfkc_edits(draft.text))
        if not (hidden or composed):
            break
    draft.apply(look_alike_edits(draft.text))
    draft.apply(spaced_letter_edits(draft.text))
    draft.apply(disguised_word_edits(draft.text))
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
    english_words()
    segment_words()
    look_alike_table()
