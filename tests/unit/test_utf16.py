import random
import time

import pytest

from analyzer.utf16 import utf16_length, utf16_offsets


def javascript_index(text: str, offset: int) -> int:
    """Where a JavaScript string would put a Python offset: count the encoded code units."""
    return len(text[:offset].encode("utf-16-le", "surrogatepass")) // 2


def test_ascii_offsets_are_unchanged():
    assert utf16_offsets(text="you are an idiot", offsets=[0, 4, 16]) == [0, 4, 16]


def test_an_emoji_outside_the_bmp_counts_two_code_units():
    text = "a😀b"
    assert utf16_offsets(text=text, offsets=[0, 1, 2, 3]) == [0, 1, 3, 4]
    assert utf16_length(text=text) == 4


def test_accents_count_one_unit_per_code_point_precomposed_or_combining():
    precomposed = "café idiot"
    combining = "cafe\u0301 idiot"
    assert utf16_offsets(text=precomposed, offsets=[5, 10]) == [5, 10]
    assert utf16_offsets(text=combining, offsets=[6, 11]) == [6, 11]


def test_emoji_and_accents_before_a_sentence_shift_its_offsets():
    text = "Ça va 👍🏽! 🇫🇷 You are an idiot."
    start = text.index("You")
    # 👍🏽 is two astral code points, the flag two more: four extra code units in all.
    assert utf16_offsets(text=text, offsets=[start, len(text)]) == [start + 4, len(text) + 4]


def test_a_lone_surrogate_counts_one_code_unit():
    text = "a\ud83db😀"
    assert utf16_offsets(text=text, offsets=[2, 3, 4]) == [2, 3, 5]
    assert utf16_length(text=text) == 5


def test_offsets_match_javascript_indexes_on_mixed_text():
    alphabet = ["a", " ", ".", "é", "e\u0301", "日", "😀", "👨‍👩‍👧", "🇩🇪", "\u200b", "\ud800"]
    rng = random.Random(15)
    text = "".join(rng.choice(alphabet) for _ in range(500))
    offsets = list(range(len(text) + 1))
    assert utf16_offsets(text=text, offsets=offsets) == [
        javascript_index(text, offset) for offset in offsets
    ]
    assert utf16_length(text=text) == javascript_index(text, len(text))


def test_an_offset_outside_the_text_is_refused():
    with pytest.raises(ValueError, match="outside"):
        utf16_offsets(text="abc", offsets=[4])
    with pytest.raises(ValueError, match="outside"):
        utf16_offsets(text="abc", offsets=[-1])


def test_a_long_text_with_many_emoji_and_offsets_converts_in_milliseconds():
    text = ("Great 😀 post, thanks! " * 1000)[:20_000]
    offsets = list(range(0, len(text), 10))
    best = min(_timed(lambda: utf16_offsets(text=text, offsets=offsets)) for _ in range(3))
    # Re-encoding the prefix for each offset takes about 75 ms here; one scan takes about 2 ms.
    assert best < 0.05


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
