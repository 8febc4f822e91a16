"""The /metrics allow-list, toxmon's own metrics and the generated Grafana dashboard."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from prometheus_client import REGISTRY

from analyzer import metrics, metrics_view
from analyzer.reviews import reviews_record
from analyzer.services import analysis_create
from monitoring.grafana import generate_dashboard

pytestmark = pytest.mark.unit


def test_metrics_url_is_named():
    assert reverse("metrics") == "/metrics"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_local_clients_read_the_metrics_by_default(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == 200
    assert b"toxmon_texts_analyzed_total" in response.content
    assert b"django_http_requests_total_by_method_total" in response.content


def test_other_clients_are_refused_even_when_they_claim_to_be_local(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == 403
    assert b"toxmon_" not in response.content


def test_a_network_in_the_allow_list_lets_its_addresses_in(client, settings):
    settings.TOXMON_METRICS_ALLOWED_IPS = ["127.0.0.1", "172.30.80.0/24"]

    assert client.get("/metrics", REMOTE_ADDR="172.30.80.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="172.30.81.7").status_code == 403


def test_ipv4_clients_of_a_dual_stack_socket_are_matched_as_ipv4(settings):
    settings.TOXMON_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    assert metrics_view.client_allowed("::ffff:10.1.2.3")
    assert not metrics_view.client_allowed("::ffff:192.0.2.1")
    assert not metrics_view.client_allowed("not an address")


def test_a_bad_allow_list_entry_is_reported_by_name(settings):
    settings.TOXMON_METRICS_ALLOWED_IPS = ["127.0.0.1", "localhost"]

    with pytest.raises(ImproperlyConfigured, match="'localhost'"):
        metrics_view.client_allowed("127.0.0.1")


def test_only_get_is_served(client):
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_prediction_is_counted_by_verdict_action_label_and_engine():
    before = {
        "toxic": sample("toxmon_texts_analyzed_total", verdict="toxic"),
        "review": sample("toxmon_text_actions_total", action="review"),
        "block": sample("toxmon_text_actions_total", action="block"),
        "not_toxic": sample("toxmon_texts_analyzed_total", verdict="not_toxic"),
        "insult": sample("toxmon_label_score_count", label="insult"),
        "latency": sample("toxmon_inference_duration_seconds_count", engine="unit-test"),
        "windows": sample("toxmon_windows_per_text_sum"),
    }

    metrics.prediction_observed(
        engine="unit-test",
        seconds=0.2,
        verdicts=["toxic", "not_toxic", "toxic"],
        scores=[{"insult": 0.9}, {"insult": 0.1}, {"insult": 0.7}],
        windows=[1, 3, 1],
        actions=["block", "allow", "review"],
    )

    assert sample("toxmon_texts_analyzed_total", verdict="toxic") == before["toxic"] + 2
    assert sample("toxmon_text_actions_total", action="review") == before["review"] + 1
    assert sample("toxmon_text_actions_total", action="block") == before["block"] + 1
    assert sample("toxmon_texts_analyzed_total", verdict="not_toxic") == before["not_toxic"] + 1
    assert sample("toxmon_label_score_count", label="insult") == before["insult"] + 3
    assert (
        sample("toxmon_inference_duration_seconds_count", engine="unit-test")
        == before["latency"] + 1
    )
    assert sample("toxmon_windows_per_text_sum") == before["windows"] + 5


def test_loading_the_fallback_engine_raises_the_fallback_flag():
    metrics.engine_loaded(
        runtime="profanity-check",
        model="alt-profanity-check 1.9.1",
        labels=("offensive",),
        fallback=True,
        seconds=1.5,
    )

    assert sample("toxmon_fallback_active") == 1
    assert sample("toxmon_model_load_seconds") == 1.5
    assert sample("toxmon_model_info", engine="profanity-check", model="alt-profanity-check 1.9.1")
    # Created at 0, so panels and alerts have series before the first text or failure.
    assert (
        REGISTRY.get_sample_value("toxmon_prediction_failures_total", {"engine": "profanity-check"})
        == 0
    )
    assert REGISTRY.get_sample_value("toxmon_label_score_count", {"label": "offensive"}) is not None


def test_the_committed_dashboard_is_what_the_generator_builds():
    committed = generate_dashboard.OUTPUT.read_text()

    assert committed == generate_dashboard.dashboard_json(), (
        "monitoring/grafana/dashboards/toxmon.json is stale: run `make dashboards`"
    )


def test_the_dashboard_has_the_three_rows_and_every_panel_queries_prometheus():
    dashboard = json.loads(generate_dashboard.dashboard_json())
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]

    assert rows == ["Traffic", "Model", "Host"]
    assert len(panels) >= 12
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(target["expr"] for target in panel["targets"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


@pytest.mark.django_db
def test_reviewers_decisions_are_counted_once_stored(
    fake_engine, django_capture_on_commit_callbacks
):
    analyses = [analysis_create(text="You idiot"), analysis_create(text="Hello")]
    before = sample("toxmon_reviews_total", decision="not_toxic")
    with django_capture_on_commit_callbacks(execute=True):
        reviews_record(analyses=analyses, decision="not_toxic", reviewer=None)
    assert sample("toxmon_reviews_total", decision="not_toxic") == before + 2
