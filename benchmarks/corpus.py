"""The fixed texts the benchmark sends: comment lengths as a moderation queue sees them.

Mostly short comments (10-40 tokens), one in ten long (100-500 tokens). The words are common
English words that both the real toxic-bert vocabulary and the random test model's know, so a
word is about one token and the lengths hold for either model.
"""

import random

from tests.model_factory import WORDS

SEED = 7
SIZE = 400
LONG_SHARE = 0.1
# A fixed set for the accuracy drift, with real comments besides the generated ones.
DRIFT_TEXTS = [
    "Thank you for the lovely comment, have a wonderful day!",
    "You are a complete idiot and everyone here knows it.",
    "I will find you and kill you.",
    "What a stupid, disgusting piece of garbage this article is.",
    "I think the weather will be sunny tomorrow morning.",
    "Shut up, you ugly moron. Nobody wants you here.",
    "Please read the thread again before you comment.",
    "People like them should go back to where they came from.",
    "This is the best thing I have read all week, thanks.",
    "Go away and die, loser.",
]


def sentence(rng: random.Random, words: int) -> str:
    """Return a comment of about `words` tokens, with some punctuation."""
    chosen = [rng.choice(WORDS) for _ in range(words)]
    pieces = []
    for index, word in enumerate(chosen):
        pieces.append(word)
        if index and index % rng.randint(6, 12) == 0:
            pieces[-1] += rng.choice([",", ".", "!", "?"])
    return " ".join(pieces).capitalize() + "."


def corpus_texts(seed: int = SEED, size: int = SIZE) -> list[str]:
    """Return the benchmark corpus, the same on every run."""
    rng = random.Random(seed)  # noqa: S311 (a fixed corpus, not a secret)
    texts = []
    for _ in range(size):
        if rng.random() < LONG_SHARE:
            texts.append(sentence(rng, rng.randint(100, 500)))
        else:
            texts.append(sentence(rng, rng.randint(10, 40)))
    return texts


def short_texts(seed: int = SEED, size: int = SIZE) -> list[str]:
    """Return about-15-token comments, the length the issue's targets are set for."""
    rng = random.Random(seed)  # noqa: S311 (a fixed corpus, not a secret)
    return [sentence(rng, rng.randint(12, 18)) for _ in range(size)]


def drift_texts() -> list[str]:
    """Return the fixed texts the runtimes' scores are compared on."""
    rng = random.Random(SEED + 1)  # noqa: S311
    generated = [sentence(rng, rng.randint(5, 60)) for _ in range(80)]
    long = [sentence(rng, 700) for _ in range(2)]  # read in two windows
    return DRIFT_TEXTS + generated + long


def paragraph(rng: random.Random, words: int) -> str:
    """Return a comment of `words` words in sentences of 8-16 words."""
    sentences = []
    written = 0
    while written < words:
        count = min(rng.randint(8, 16), words - written)
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(count)).capitalize() + ".")
        written += count
    return " ".join(sentences)


def explain_texts() -> dict[str, str]:
    """Return the texts the issue measured explanations on, by name, the same on every run.

    A 13-word and a 330-word comment, a 10,000-character text in sentences, and one of 10,000
    characters without punctuation or line breaks (one "sentence" for the segmenter).
    """
    rng = random.Random(SEED + 2)  # noqa: S311
    one_sentence = " ".join(rng.choice(WORDS) for _ in range(13)).capitalize() + "."
    long = paragraph(rng, 2500)[:10_000].rsplit(" ", 1)[0]
    unpunctuated = " ".join(rng.choice(WORDS) for _ in range(2500))[:10_000].rsplit(" ", 1)[0]
    return {
        "13 words": one_sentence,
        "330 words": paragraph(rng, 330),
        "10,000 characters": long,
        "10,000 characters, no punctuation": unpunctuated,
    }
