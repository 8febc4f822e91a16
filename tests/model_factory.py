"""Build Detoxify-shaped classifiers with random weights, for tests and benchmarks.

The three checkpoints toxmon serves (analyzer/checkpoints.py) cannot be downloaded
here, so the tests build models with each one's architecture, config shape, labels, problem
type and tokenizer type, saved in the tokenizer files its hub repository has:

- `bert`: unitary/toxic-bert; WordPiece, lower case; vocab.txt (and tokenizer.json).
- `roberta`: unitary/unbiased-toxic-roberta; byte-level BPE; vocab.json and merges.txt.
- `xlm-roberta`: unitary/multilingual-toxic-xlm-roberta; SentencePiece Unigram;
  sentencepiece.bpe.model.

Every tokenizer but the tiny BERT's (a fixed list of WORDS that older tests count on) is trained
here with the `tokenizers` library on real words: wordfreq's word lists, each word repeated as
often as it is frequent, so common words stay whole and rare ones
split into pieces as in the real vocabularies. `size="tiny"` (2 layers of 32) is small enough for
unit speed; `size="base"` has the real model's dimensions and vocabulary size, so it is as large
and as slow as the real checkpoint: for BERT 30,522 English word pieces, for RoBERTa 50,265
byte-level pieces; XLM-R's 250,002 rows are all there but only its first pieces are trained.

    python -m tests.model_factory --arch roberta --size tiny models/tiny-unbiased-toxic-roberta
"""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analyzer.checkpoints import KNOWN_MODELS, KnownModel

ARCHITECTURES = ("bert", "roberta", "xlm-roberta")
SIZES = ("tiny", "base")
CHECKPOINTS: dict[str, KnownModel] = {model.model_type: model for model in KNOWN_MODELS}

TOXIC_BERT_LABELS = CHECKPOINTS["bert"].labels
UNBIASED_ROBERTA_LABELS = CHECKPOINTS["roberta"].labels
MULTILINGUAL_XLMR_LABELS = CHECKPOINTS["xlm-roberta"].labels

# Enough real words for sentences in tests to tokenize into whole words, not [UNK]: the tiny
# BERT's whole vocabulary, and words every tiny tokenizer is trained to keep whole.
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

# The dimensions of each size; the real checkpoints are all "base".
DIMENSIONS = {
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
}
# Tokenizer pieces to train, and words per language to train them on. A base RoBERTa reaches
# its real 50,265 pieces (a minute); XLM-R's Unigram trainer is far slower, so a base XLM-R
# trains 50,000 pieces and leaves the rest of its real-sized embedding unused, and a tiny one
# learns from few words, to build in seconds.
TRAINED_PIECES = {
    ("roberta", "tiny"): 2000,
    ("roberta", "base"): 50264,  # and <mask>: 50,265
    ("xlm-roberta", "tiny"): 2000,
    ("xlm-roberta", "base"): 50000,
}
WORDS_PER_LANGUAGE = {
    ("bert", "base"): 300000,
    ("roberta", "tiny"): 4000,
    ("roberta", "base"): 300000,
    ("xlm-roberta", "tiny"): 600,
    ("xlm-roberta", "base"): 20000,
}
# The languages XLM-R's pieces are trained on: the multilingual model's seven, and German and
# Dutch, which the model does not cover but whose words its real vocabulary holds.
XLMR_LANGUAGES = ("en", "fr", "es", "it", "pt", "tr", "ru", "de", "nl")
# Occurrences of all the words of a language together, shared out by their frequencies: enough
# for the rarest word trained on to occur once.
CORPUS_WORDS = {"tiny": 10_000, "base": 2_000_000}


def vocabulary() -> list[str]:
    """Return the tiny BERT's WordPiece vocabulary: specials, characters, WORDS."""
    letters = [chr(code) for code in range(ord("a"), ord("z") + 1)]
    digits = [str(digit) for digit in range(10)]
    word_pieces = [f"##{piece}" for piece in letters + digits]
    tokens = SPECIAL_TOKENS + PUNCTUATION + letters + digits + word_pieces + SUFFIXES + WORDS
    return list(dict.fromkeys(tokens))


def frequent_words(
    *, languages: tuple[str, ...], words_per_language: int, size: str, cased: bool = False
) -> Iterator[str]:
    """Yield each frequent word of each language as a run of itself, as long as it is common.

    A tokenizer trainer counts words, so a word repeated in proportion to its frequency trains
    pieces as a large corpus of that language would. wordfreq ranks the words; by Zipf's law the
    word of rank r makes about a tenth / r of a text (looking each frequency up takes minutes).
    WORDS come first, each as common as the hundredth word. wordfreq's words are lower case; for a
    cased tokenizer a fifth of each run is capitalised, as words that start a sentence are.
    """
    import wordfreq

    corpus_words = CORPUS_WORDS[size]
    yield " ".join(word for word in WORDS for _ in range(corpus_words // 1000))
    for language in languages:
        ranked = wordfreq.top_n_list(language, words_per_language)
        for rank, word in enumerate(ranked, start=1):
            count = max(1, corpus_words // (10 * rank))
            yield " ".join([word] * count)
            if cased and word[:1].islower():
                yield " ".join([word.capitalize()] * max(1, count // 5))


def bert_tokenizer_save(directory: Path, *, size: str) -> int:
    """Write the WordPiece vocab.txt and tokenizer files; return the vocabulary size."""
    from transformers import BertTokenizer

    vocab_file = directory / "vocab.txt"
    if size == "tiny":
        vocab_file.write_text("\n".join(vocabulary()) + "\n")
    else:
        vocab_file.write_text("\n".join(bert_base_vocabulary()) + "\n")
    # transformers 5 builds a five-token vocabulary from `vocab_file=`; a dict is read.
    tokens = vocab_file.read_text().splitlines()
    tokenizer = BertTokenizer(
        vocab={token: index for index, token in enumerate(tokens)}, do_lower_case=True
    )
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(directory)
    return len(tokens)


def bert_base_vocabulary() -> list[str]:
    """Return 30,522 lower-cased English word pieces, as bert-base-uncased has."""
    import string

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    vocab_size = CHECKPOINTS["bert"].vocab_size
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        # Punctuation and digits stand alone between words, so a word list alone lacks them.
        initial_alphabet=list(string.ascii_lowercase + string.digits + string.punctuation),
    )
    tokenizer.train_from_iterator(
        frequent_words(
            languages=("en",), words_per_language=WORDS_PER_LANGUAGE[("bert", "base")], size="base"
        ),
        trainer,
    )
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    tokens = [token for token, _ in by_id]
    # bert-base-uncased keeps 994 [unusedN] rows too; fill any shortfall the same way.
    tokens += [f"[unused{index}]" for index in range(vocab_size - len(tokens))]
    return tokens[:vocab_size]


def roberta_tokenizer_save(directory: Path, *, size: str) -> int:
    """Write a byte-level BPE vocab.json and merges.txt as roberta-base's; return their size."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=TRAINED_PIECES[("roberta", size)],
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        # Every byte has a piece, so no text is ever unknown.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(
        frequent_words(
            languages=("en",),
            words_per_language=WORDS_PER_LANGUAGE[("roberta", size)],
            size=size,
            cased=True,
        ),
        trainer,
    )
    tokenizer.model.save(str(directory))
    vocab_file = directory / "vocab.json"
    vocab = json.loads(vocab_file.read_text())
    vocab["<mask>"] = len(vocab)  # the last id, as in roberta-base
    vocab_file.write_text(json.dumps(vocab, ensure_ascii=False))
    special_tokens = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    tokenizer_files_save(
        directory,
        {
            "tokenizer_class": "RobertaTokenizer",
            "add_prefix_space": False,
            "errors": "replace",
            "trim_offsets": True,
            **special_tokens,
        },
        special_tokens,
    )
    return len(vocab)


def xlmr_tokenizer_save(directory: Path, *, size: str) -> int:
    """Write a SentencePiece Unigram model as XLM-R's sentencepiece.bpe.model; return its size.

    The pieces and their scores are trained with `tokenizers`; the file is SentencePiece's
    protobuf, with the NFKC normalisation XLM-R's has, so transformers reads it as it reads the
    real one: fairseq's four specials first, <mask> last.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers.convert_slow_tokenizer import import_protobuf

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=TRAINED_PIECES[("xlm-roberta", size)],
        special_tokens=["<unk>", "<s>", "</s>"],
        unk_token="<unk>",
    )
    tokenizer.train_from_iterator(
        frequent_words(
            languages=XLMR_LANGUAGES,
            words_per_language=WORDS_PER_LANGUAGE[("xlm-roberta", size)],
            size=size,
            cased=True,
        ),
        trainer,
    )
    pieces = json.loads(tokenizer.to_str())["model"]["vocab"]

    model_pb2 = import_protobuf()
    proto = model_pb2.ModelProto()
    piece_type = model_pb2.ModelProto.SentencePiece
    kinds = {"<unk>": piece_type.UNKNOWN, "<s>": piece_type.CONTROL, "</s>": piece_type.CONTROL}
    for piece, score in pieces:
        entry = proto.pieces.add()
        entry.piece = piece
        entry.score = score
        entry.type = kinds.get(piece, piece_type.NORMAL)
    spec = proto.trainer_spec
    spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    spec.vocab_size = len(pieces)
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = 0, 1, 2, -1
    proto.normalizer_spec.CopyFrom(nmt_nfkc_normalizer_spec(model_pb2))
    (directory / "sentencepiece.bpe.model").write_bytes(proto.SerializeToString())

    special_tokens = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    tokenizer_files_save(
        directory, {"tokenizer_class": "XLMRobertaTokenizer", **special_tokens}, special_tokens
    )
    # fairseq puts <pad> at 1 and <mask> after the pieces: one more than SentencePiece's count.
    return len(pieces) + 2


def nmt_nfkc_normalizer_spec(model_pb2: Any) -> Any:
    """Return SentencePiece's NFKC normalisation table, as every XLM-R model file carries it."""
    import sentencepiece

    # SentencePiece compiles the table into each model it trains; a throwaway model yields it.
    model_file = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(["a b c d e f"] * 4),
        model_writer=model_file,
        vocab_size=10,
        model_type="char",
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )
    proto = model_pb2.ModelProto()
    proto.ParseFromString(model_file.getvalue())
    return proto.normalizer_spec


def tokenizer_files_save(
    directory: Path, config: dict[str, object], special_tokens: dict[str, str]
) -> None:
    """Write tokenizer_config.json and special_tokens_map.json as the hub repositories have them.

    No model_max_length: the serving code must take the length from the model's config.
    """
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (directory / "special_tokens_map.json").write_text(json.dumps(special_tokens, indent=2) + "\n")


def build_model(directory: Path, *, arch: str = "bert", size: str = "tiny", seed: int = 0) -> Path:
    """Save a randomly initialised classifier and tokenizer in the shape of a Detoxify model."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if arch not in ARCHITECTURES or size not in SIZES:
        raise ValueError(f"no {size} {arch}: choose from {ARCHITECTURES} and {SIZES}")
    checkpoint = CHECKPOINTS[arch]
    directory.mkdir(parents=True, exist_ok=True)
    save_tokenizer = {
        "bert": bert_tokenizer_save,
        "roberta": roberta_tokenizer_save,
        "xlm-roberta": xlmr_tokenizer_save,
    }[arch]
    tokenizer_size = save_tokenizer(directory, size=size)
    # A base model gets the real vocabulary size, so its embedding weighs what the real one does.
    vocab_size = checkpoint.vocab_size if size == "base" else tokenizer_size
    labels = checkpoint.labels
    shape: dict[str, object] = {
        "vocab_size": max(vocab_size, tokenizer_size),
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: index for index, label in enumerate(labels)},
        "problem_type": "multi_label_classification",
        **DIMENSIONS[size],
    }
    if arch == "bert":
        shape |= {"max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 0}
    else:
        # RoBERTa's positions start after its padding id (1): 514 rows hold 512 tokens.
        shape |= {
            "max_position_embeddings": 514,
            "type_vocab_size": 1,
            "layer_norm_eps": 1e-5,
            "pad_token_id": 1,
            "bos_token_id": 0,
            "eos_token_id": 2,
        }
    config = AutoConfig.for_model(arch, **shape)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.eval()
    model.save_pretrained(directory)
    return directory


def build_bert(directory: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """Save a randomly initialised toxic-bert-shaped classifier and tokenizer in directory."""
    return build_model(directory, arch="bert", size=size, seed=seed)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=build_model.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--arch", choices=ARCHITECTURES, default="bert")
    parser.add_argument("--size", choices=SIZES, default="tiny")
    arguments = parser.parse_args()
    print(build_model(arguments.directory, arch=arguments.arch, size=arguments.size))
