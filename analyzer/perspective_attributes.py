"""Which Perspective attribute each model label answers, for the /v1alpha1/ routes.

Detoxify's checkpoints are trained on Jigsaw's data, whose labels are Perspective's attributes
under other names: toxic-bert's `obscene` is Perspective's PROFANITY (there is no OBSCENE
attribute), `identity_hate` is IDENTITY_ATTACK. A label with no Perspective meaning (the
unbiased model's identity labels such as `female`) answers nothing. The offline fallback's single
"offensive" score is the nearest thing it has to TOXICITY, and answers only that.
"""

from collections.abc import Iterable

# Every model label that answers a Perspective attribute, by the names the served models use:
# toxic-bert (Detoxify "original"), unbiased-toxic-roberta and multilingual-toxic-xlm-roberta,
# and the offline fallback.
ATTRIBUTE_OF_LABEL: dict[str, str] = {
    "toxic": "TOXICITY",
    "toxicity": "TOXICITY",
    "offensive": "TOXICITY",
    "severe_toxic": "SEVERE_TOXICITY",
    "severe_toxicity": "SEVERE_TOXICITY",
    "obscene": "PROFANITY",
    "threat": "THREAT",
    "insult": "INSULT",
    "identity_hate": "IDENTITY_ATTACK",
    "identity_attack": "IDENTITY_ATTACK",
    "sexual_explicit": "SEXUALLY_EXPLICIT",
}

# Every attribute some model can answer, in Perspective's documentation's order.
KNOWN_ATTRIBUTES: tuple[str, ...] = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "PROFANITY",
    "THREAT",
    "SEXUALLY_EXPLICIT",
)


def attribute_labels(*, labels: Iterable[str]) -> dict[str, str]:
    """Return the attributes a model with these labels answers, each with the label it reads."""
    answered: dict[str, str] = {}
    for label in labels:
        attribute = ATTRIBUTE_OF_LABEL.get(label.lower())
        # Two labels for one attribute would be a model we do not know; the first one wins.
        if attribute is not None and attribute not in answered:
            answered[attribute] = label
    return answered
