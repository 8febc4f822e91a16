"""Build BERT classifiers in toxic-bert's shape with random weights, for tests and benchmarks.

toxic-bert's weights cannot be downloaded here, so tests build a model with its config, its six
labels and its multi-label problem type. `size="tiny"` is small enough for unit speed;
`size="base"` is BERT-base, as large and as slow as toxic-bert itself.
"""

from pathlib import Path

TOXIC_BERT_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")

# Enough real words for sentences in tests to tokenize into whole words, not [UNK].
WORDS = """
the a an and or but is are was were be been you your i me my we our they them he she it
this that these those to of in on at for with from by as not no yes very so too quite
really just have has had do does did will would can could should may might must shall am
good great nice kind friendly lovely wonderful happy thank thanks please hello hi welcome
day days today week morning evening night weather sunny rain home work people friend
friends bad stupid idiot idiots dumb moron fool hate kill die ugly disgusting trash
garbage loser complete total absolute utterly really shut up go away get out what why how
when where who which there here now then again always never sometimes comment comments
sentence post thread article read write said say think know see like love
""".split()
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = list(".,!?'\"-:;()")
SUFFIXES = ["##s", "##ed", "##ing", "##ly", "##er"]


def vocabulary() -> list[str]:
    letters = [chr(code) for code in range(ord("a"), ord("z") + 1)]
    digits = [str(digit) for digit in range(10)]
    word_pieces = [f"##{piece}" for piece in letters + digits]
    tokens = SPECIAL_TOKENS + PUNCTUATION + letters + digits + word_pieces + SUFFIXES + WORDS
    return list(dict.fromkeys(tokens))


def build_bert(directory: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """Save a randomly initialised toxic-bert-shaped classifier and tokenizer in directory."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocabulary()) + "\n")
    # transformers 5 ignores `vocab_file=` here and builds a five-token vocabulary.
    tokenizer = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)
    tokenizer.model_max_length = 512

    dimensions = {
        "tiny": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
        },
        "base": {
            "hidden_size": 768,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "intermediate_size": 3072,
        },
    }[size]
    config = BertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=512,
        num_labels=len(TOXIC_BERT_LABELS),
        id2label=dict(enumerate(TOXIC_BERT_LABELS)),
        label2id={label: index for index, label in enumerate(TOXIC_BERT_LABELS)},
        problem_type="multi_label_classification",
        **dimensions,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.eval()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=build_bert.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    arguments = parser.parse_args()
    print(build_bert(arguments.directory, size=arguments.size))
