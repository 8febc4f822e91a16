"""The Detoxify checkpoints toxmon knows: what each one reads, predicts and is for.

Loading never depends on this table: the labels and their order always come from the model's
own config, so any multi-label text classifier can be served. The table adds what a config
cannot say: the languages a checkpoint was trained on (for the language check), what it is for
(for the docs), which of its labels name an identity the text mentions rather than a kind of
toxicity (they never make a verdict), and which Perspective attribute each label answers for.
A pure module: the layers above all read it.

Labels are those of each hub repository's `config.json` (`id2label`), which is what toxmon
serves; Detoxify's own Python package renames some of them (toxic -> toxicity).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzer.languages import MODEL_LANGUAGES

# The identities unbiased-toxic-roberta learned to recognise (the Jigsaw Unintended Bias
# challenge's identity columns with over 500 test examples). A high score says the text mentions
# the identity, not that it is toxic, so these labels never make a verdict.
IDENTITY_LABELS = (
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
)

# alt-profanity-check, the offline fallback, learned from English tweets and Wikipedia comments.
FALLBACK_LANGUAGES = ("en",)


@dataclass(frozen=True, slots=True)
class KnownModel:
    """One Detoxify checkpoint on the Hugging Face hub."""

    hub_id: str
    detoxify_name: str  # what `Detoxify(...)` calls it
    model_type: str  # config.json's model_type
    base_model: str
    parameters_millions: int
    weights_mb: int  # the fp32 weights the hub serves
    vocab_size: int
    tokenizer: str
    max_tokens: int  # tokens one window holds, special tokens included
    labels: tuple[str, ...]
    purpose: str

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the ISO 639-1 codes of the languages the checkpoint was trained on."""
        return MODEL_LANGUAGES[self.hub_id]

    @property
    def toxicity_labels(self) -> tuple[str, ...]:
        """Return the labels that say how toxic a text is, without the identity mentions."""
        return tuple(label for label in self.labels if label not in IDENTITY_LABELS)


KNOWN_MODELS = (
    KnownModel(
        hub_id="unitary/toxic-bert",
        detoxify_name="original",
        model_type="bert",
        base_model="bert-base-uncased",
        parameters_millions=110,
        weights_mb=438,
        vocab_size=30522,
        tokenizer="WordPiece, lower-cased",
        max_tokens=512,
        labels=("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"),
        purpose=(
            "English comments; the default. Trained on the Jigsaw Toxic Comment Classification "
            "challenge (Wikipedia talk pages): six kinds of toxicity."
        ),
    ),
    KnownModel(
        hub_id="unitary/unbiased-toxic-roberta",
        detoxify_name="unbiased",
        model_type="roberta",
        base_model="roberta-base",
        parameters_millions=125,
        weights_mb=499,
        vocab_size=50265,
        tokenizer="byte-level BPE",
        max_tokens=512,
        labels=(
            "toxicity",
            "severe_toxicity",
            "obscene",
            "identity_attack",
            "insult",
            "threat",
            "sexual_explicit",
            *IDENTITY_LABELS,
        ),
        purpose=(
            "English comments where identity terms draw false alarms: trained on the Jigsaw "
            "Unintended Bias challenge (Civil Comments) to score 'I am a gay man' lower than "
            "toxic-bert does. Adds sexual_explicit, and nine labels that name the identities a "
            "text mentions (shown apart; they never make a verdict)."
        ),
    ),
    KnownModel(
        hub_id="unitary/multilingual-toxic-xlm-roberta",
        detoxify_name="multilingual",
        model_type="xlm-roberta",
        base_model="xlm-roberta-base",
        parameters_millions=278,
        weights_mb=1112,
        vocab_size=250002,
        tokenizer="SentencePiece Unigram",
        max_tokens=512,
        labels=("toxic",),
        purpose=(
            "Comments in English, French, Spanish, Italian, Portuguese, Turkish or Russian: "
            "trained on the Jigsaw Multilingual challenge. One label, toxic; slower and "
            "larger than the English models (most of its size is its 250,002-piece vocabulary)."
        ),
    ),
)


def known_model(*, model: str, labels: Sequence[str]) -> KnownModel | None:
    """Return the Detoxify checkpoint served as `model`, or None when it is none of them.

    `model` is TOXMON_MODEL: a hub id, or a folder, such as the `unitary--toxic-bert` that
    fetch_model makes. A folder of another name is recognised by its labels, in their order.
    """
    folder_name = Path(model).name.replace("--", "/")
    for candidate in KNOWN_MODELS:
        if model == candidate.hub_id or folder_name == candidate.hub_id:
            return candidate
    for candidate in KNOWN_MODELS:
        if tuple(labels) == candidate.labels:
            return candidate
    return None


def is_identity_label(label: str) -> bool:
    """Tell whether a label names an identity the text mentions rather than a kind of toxicity."""
    return label in IDENTITY_LABELS
