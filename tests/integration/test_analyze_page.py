"""A full POST through Django with the real transformers pipeline on the tiny model."""

import pytest
from django.urls import reverse

from analyzer.models import Analysis
from tests.model_factory import TOXIC_BERT_LABELS

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_model(settings, fresh_classifier, tiny_model_dir):
    settings.TOXMON_MODEL = str(tiny_model_dir)
    settings.TOXMON_REQUIRE_MODEL = True


def test_a_post_stores_one_row_and_renders_a_row_per_toxic_bert_label(client, tiny_model):
    response = client.post(reverse("analyzer:analyze"), {"text": "You are a complete idiot"})
    assert response.status_code == 200
    html = response.content.decode()
    for label in TOXIC_BERT_LABELS:
        assert f'data-label="{label}"' in html
    assert html.count("<meter") == 6
    assert "Fallback engine active" not in html
    stored = Analysis.objects.get()
    assert list(stored.scores) == list(TOXIC_BERT_LABELS)
    assert stored.engine == "torch"


def test_healthz_reports_the_loaded_model(client, tiny_model, tiny_model_dir):
    body = client.get(reverse("analyzer:healthz")).json()
    assert body["engine"] == "torch"
    assert body["model"] == str(tiny_model_dir)
    assert body["labels"] == list(TOXIC_BERT_LABELS)
    assert body["fallback"] is False
