"""The registry of Detoxify checkpoints: a served model recognised, identities, Perspective."""

import pytest

from analyzer.checkpoints import (
    IDENTITY_LABELS,
    KNOWN_MODELS,
    is_identity_label,
    known_model,
)
from analyzer.languages import MODEL_LANGUAGES
from analyzer.perspective_attributes import attribute_labels

BY_ID = {model.hub_id: model for model in KNOWN_MODELS}
TOXIC_BERT = BY_ID["unitary/toxic-bert"]
UNBIASED = BY_ID["unitary/unbiased-toxic-roberta"]
MULTILINGUAL = BY_ID["unitary/multilingual-toxic-xlm-roberta"]


def test_the_registry_names_the_three_detoxify_checkpoints_with_the_languages_they_read():
    assert set(BY_ID) == set(MODEL_LANGUAGES)
    assert {model.detoxify_name for model in KNOWN_MODELS} == {
        "original",
        "unbiased",
        "multilingual",
    }
    assert TOXIC_BERT.languages == ("en",)
    assert set(MULTILINGUAL.languages) == {"en", "fr", "es", "it", "pt", "tr", "ru"}


def test_unbiased_roberta_has_seven_toxicity_labels_and_nine_identities_in_config_order():
    assert len(UNBIASED.labels) == 16
    assert UNBIASED.labels[:7] == (
        "toxicity",
        "severe_toxicity",
        "obscene",
        "identity_attack",
        "insult",
        "threat",
        "sexual_explicit",
    )
    assert UNBIASED.labels[7:] == IDENTITY_LABELS
    assert UNBIASED.toxicity_labels == UNBIASED.labels[:7]
    assert TOXIC_BERT.toxicity_labels == TOXIC_BERT.labels


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("unitary/toxic-bert", "unitary/toxic-bert"),
        ("models/unitary--unbiased-toxic-roberta", "unitary/unbiased-toxic-roberta"),
        (
            "/srv/toxmon/models/unitary--multilingual-toxic-xlm-roberta/",
            "unitary/multilingual-toxic-xlm-roberta",
        ),
    ],
)
def test_a_served_model_is_recognised_by_its_hub_id_or_fetched_folder(model, expected):
    found = known_model(model=model, labels=["labels", "of", "no", "known", "model"])
    assert found is not None
    assert found.hub_id == expected


def test_a_local_folder_of_another_name_is_recognised_by_its_labels():
    assert known_model(model="/tmp/tiny", labels=UNBIASED.labels) is UNBIASED
    assert known_model(model="/tmp/tiny", labels=TOXIC_BERT.labels) is TOXIC_BERT
    assert known_model(model="/tmp/tiny", labels=list(reversed(TOXIC_BERT.labels))) is None
    assert known_model(model="alt-profanity-check 1.9.1", labels=["offensive"]) is None


def test_identity_labels_are_told_from_toxicity_labels():
    assert is_identity_label("muslim")
    assert not is_identity_label("identity_attack")
    assert not is_identity_label("toxic")


def test_each_model_maps_its_labels_to_perspective_attributes():
    assert attribute_labels(labels=TOXIC_BERT.labels) == {
        "TOXICITY": "toxic",
        "SEVERE_TOXICITY": "severe_toxic",
        "PROFANITY": "obscene",
        "THREAT": "threat",
        "INSULT": "insult",
        "IDENTITY_ATTACK": "identity_hate",
    }
    unbiased = attribute_labels(labels=UNBIASED.labels)
    assert unbiased["SEXUALLY_EXPLICIT"] == "sexual_explicit"
    assert unbiased["IDENTITY_ATTACK"] == "identity_attack"
    assert len(unbiased) == 7, "identity mentions answer no Perspective attribute"
    assert attribute_labels(labels=MULTILINGUAL.labels) == {"TOXICITY": "toxic"}
