import itertools
import random
import time

import pytest

from analyzer.sentences import Sentence, sentences_split


def texts_of(text: str) -> list[str]:
    """Split text, check every sentence slices the original exactly, and return the texts."""
    sentences = sentences_split(text=text)
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
    return [sentence.text for sentence in sentences]


def test_offsets_follow_perspectives_documented_example_and_skip_the_space_between():
    text = "What kind of idiot name is foo? Sorry, I like your name."
    assert sentences_split(text=text) == [
        Sentence(start=0, end=31, text="What kind of idiot name is foo?"),
        Sentence(start=32, end=56, text="Sorry, I like your name."),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Smith went to Washington. He paid $4.20 for coffee.",
            ["Dr. Smith went to Washington.", "He paid $4.20 for coffee."],
        ),
        (
            "I like fruit, e.g. apples and pears. You don't.",
            ["I like fruit, e.g. apples and pears.", "You don't."],
        ),
        ("The score was 4.2 out of 5. Not bad.", ["The score was 4.2 out of 5.", "Not bad."]),
        ("The U.S.A. is big. Yes it is.", ["The U.S.A. is big.", "Yes it is."]),
        ("I'm on v2.1.3 now. Ship it.", ["I'm on v2.1.3 now.", "Ship it."]),
        (
            "He lives at No. 5 Main St. in St. Louis. Nice.",
            ["He lives at No. 5 Main St. in St. Louis.", "Nice."],
        ),
        ("Das ist z.B. ein Test. Noch einer.", ["Das ist z.B. ein Test.", "Noch einer."]),
        ("M. Dupont est là. Il dort.", ["M. Dupont est là.", "Il dort."]),
    ],
)
def test_abbreviations_decimals_and_versions_do_not_end_a_sentence(text, expected):
    assert texts_of(text) == expected


def test_an_ellipsis_inside_a_sentence_does_not_end_it():
    assert texts_of("I waited... and waited. Then I left.") == [
        "I waited... and waited.",
        "Then I left.",
    ]


def test_a_quotation_stays_with_its_sentence():
    assert texts_of('"Go away!" she shouted. Nobody moved.') == [
        '"Go away!" she shouted.',
        "Nobody moved.",
    ]
    assert texts_of('He said "you are an idiot." Then he left.') == [
        'He said "you are an idiot."',
        "Then he left.",
    ]


def test_a_missing_space_after_a_full_stop_still_ends_the_sentence():
    assert texts_of("This is bad.You are stupid.") == ["This is bad.", "You are stupid."]


def test_a_domain_name_is_not_split():
    assert texts_of("Visit example.com today. It is great.") == [
        "Visit example.com today.",
        "It is great.",
    ]


def test_repeated_question_and_exclamation_marks_end_one_sentence_each():
    assert texts_of("Really?! Are you serious?? Yes!!!") == [
        "Really?!",
        "Are you serious??",
        "Yes!!!",
    ]


def test_a_line_break_ends_a_sentence_without_a_full_stop():
    assert texts_of("first line without a stop\nsecond line\r\n\r\nthird") == [
        "first line without a stop",
        "second line",
        "third",
    ]


def test_emoji_and_accents_keep_offsets_in_code_points():
    text = "Café crème 😀👍🏽. You are an idiot 🤬! Merci."
    sentences = sentences_split(text=text)
    assert [sentence.text for sentence in sentences] == [
        "Café crème 😀👍🏽.",
        "You are an idiot 🤬!",
        "Merci.",
    ]
    assert sentences[1].start == text.index("You")
    assert sentences[1].end == text.index("!") + 1


def test_a_text_without_sentence_punctuation_is_one_sentence():
    assert texts_of("  lol you suck 🤬 go away  ") == ["lol you suck 🤬 go away"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_an_empty_or_blank_text_has_no_sentences(text):
    assert sentences_split(text=text) == []


def test_a_lone_surrogate_is_split_around_with_offsets_into_the_original():
    text = "Broken \ud83d emoji. You are an idiot."
    assert texts_of(text) == ["Broken \ud83d emoji.", "You are an idiot."]


def test_random_texts_lose_no_character_and_sentences_never_overlap():
    alphabet = [*"ab .!?\n\"'()", "…", "😀", "é", "e\u0301", "日本", "\u200b", " ", "Dr."]
    rng = random.Random(13)
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 120)))
        sentences = sentences_split(text=text)
        for sentence in sentences:
            assert text[sentence.start : sentence.end] == sentence.text
            assert sentence.text == sentence.text.strip() != ""
        for earlier, later in itertools.pairwise(sentences):
            assert earlier.end <= later.start
        kept = "".join(sentence.text for sentence in sentences)
        assert "".join(kept.split()) == "".join(text.split())


@pytest.mark.parametrize(
    "text",
    [
        ("Dr. Smith paid $4.20, e.g. for coffee... You are an idiot! " * 200)[:10_000],
        # Regex-heavy segmenters (pysbd) take seconds on this one.
        ("a. " * 3334)[:10_000],
    ],
    ids=["comments", "many-initials"],
)
def test_a_10000_character_text_splits_in_milliseconds(text):
    best = min(_timed(lambda: sentences_split(text=text)) for _ in range(3))
    assert best < 0.1


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
