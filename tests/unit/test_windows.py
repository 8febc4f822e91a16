import itertools

import pytest

from analyzer.windows import max_over_windows, model_max_tokens, window_spans


def offsets_of(words: list[str]) -> list[tuple[int, int]]:
    """Offsets of space-separated words, as a tokenizer would give them."""
    offsets, position = [], 0
    for word in words:
        offsets.append((position, position + len(word)))
        position += len(word) + 1
    return offsets


def test_a_short_text_is_one_window_from_first_to_last_token():
    assert window_spans(offsets_of(["you", "are", "kind"]), max_tokens=5) == [(0, 12)]


def test_no_tokens_means_no_windows():
    assert window_spans([], max_tokens=5) == []


def test_a_long_text_is_split_into_overlapping_windows_that_cover_every_token():
    words = [f"w{index:02d}" for index in range(23)]
    offsets = offsets_of(words)
    spans = window_spans(offsets, max_tokens=10, overlap=3)
    text = " ".join(words)
    pieces = [text[start:end].split() for start, end in spans]
    assert all(len(piece) <= 10 for piece in pieces)
    assert pieces[0][0] == "w00" and pieces[-1][-1] == "w22"
    covered = {word for piece in pieces for word in piece}
    assert covered == set(words)
    for earlier, later in itertools.pairwise(pieces):
        assert earlier[-3:] == later[:3], "neighbouring windows share the overlap"


def test_the_last_window_ends_on_the_last_token_without_an_empty_tail():
    spans = window_spans(offsets_of(["a"] * 10), max_tokens=4, overlap=1)
    assert spans[-1][1] == offsets_of(["a"] * 10)[-1][1]
    assert len(spans) == 3


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (4, 4), (4, -1)])
def test_impossible_window_sizes_are_refused(max_tokens, overlap):
    with pytest.raises(ValueError):
        window_spans(offsets_of(["a"]), max_tokens=max_tokens, overlap=overlap)


def test_each_label_takes_its_maximum_over_the_windows():
    merged = max_over_windows(
        [
            {"toxic": 0.1, "insult": 0.05},
            {"toxic": 0.2, "insult": 0.93},
            {"toxic": 0.15, "insult": 0.40},
        ]
    )
    assert merged == {"toxic": 0.2, "insult": 0.93}
    assert list(merged) == ["toxic", "insult"]


def test_merging_nothing_is_an_error():
    with pytest.raises(ValueError):
        max_over_windows([])


def test_bert_holds_as_many_tokens_as_its_position_table():
    assert (
        model_max_tokens(
            model_type="bert",
            max_position_embeddings=512,
            pad_token_id=0,
            tokenizer_max_length=512,
        )
        == 512
    )


@pytest.mark.parametrize("model_type", ["roberta", "xlm-roberta"])
def test_roberta_positions_start_after_the_padding_id_so_514_rows_hold_512_tokens(model_type):
    # Hub tokenizers without model_max_length report 10^30: the config must set the limit.
    unset = int(1e30)
    assert (
        model_max_tokens(
            model_type=model_type,
            max_position_embeddings=514,
            pad_token_id=1,
            tokenizer_max_length=unset,
        )
        == 512
    )


def test_a_tokenizer_that_asks_for_fewer_tokens_than_the_model_holds_is_obeyed():
    assert (
        model_max_tokens(
            model_type="roberta",
            max_position_embeddings=514,
            pad_token_id=1,
            tokenizer_max_length=256,
        )
        == 256
    )
