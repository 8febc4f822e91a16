"""Which Perspective attribute each model's labels answer."""

from analyzer.perspective_attributes import KNOWN_ATTRIBUTES, attribute_labels
from tests.model_factory import TOXIC_BERT_LABELS

UNBIASED_TOXIC_ROBERTA_LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
    "male",
    "female",
    "christian",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
)


def test_toxic_berts_labels_answer_perspectives_six_attributes():
    assert attribute_labels(labels=TOXIC_BERT_LABELS) == {
        "TOXICITY": "toxic",
        "SEVERE_TOXICITY": "severe_toxic",
        "PROFANITY": "obscene",
        "THREAT": "threat",
        "INSULT": "insult",
        "IDENTITY_ATTACK": "identity_hate",
    }


def test_unbiased_roberta_adds_sexually_explicit_and_its_identity_labels_answer_nothing():
    answered = attribute_labels(labels=UNBIASED_TOXIC_ROBERTA_LABELS)
    assert answered["SEXUALLY_EXPLICIT"] == "sexual_explicit"
    assert answered["IDENTITY_ATTACK"] == "identity_attack"
    assert answered["PROFANITY"] == "obscene"
    assert set(answered) == set(KNOWN_ATTRIBUTES)
    assert not set(answered.values()) & {"male", "female", "christian", "black"}


def test_the_offline_fallbacks_offensive_score_answers_only_toxicity():
    assert attribute_labels(labels=("offensive",)) == {"TOXICITY": "offensive"}


def test_obscene_is_a_label_never_an_attribute():
    assert "OBSCENE" not in KNOWN_ATTRIBUTES
    assert "OBSCENE" not in attribute_labels(labels=TOXIC_BERT_LABELS)


def test_labels_are_matched_whatever_their_case_and_a_model_of_other_labels_answers_nothing():
    assert attribute_labels(labels=("Toxic", "INSULT")) == {"TOXICITY": "Toxic", "INSULT": "INSULT"}
    assert attribute_labels(labels=("positive", "negative")) == {}
