import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analyzer import csv_export
from analyzer.csv_export import spreadsheet_safe
from analyzer.models import Analysis, Source
from analyzer.services import analysis_create

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:analyzer_analysis_changelist")


@pytest.fixture
def analyses(fake_engine):
    return [
        analysis_create(text="You are a complete idiot"),
        analysis_create(text="Have a lovely day"),
    ]


def test_the_admin_needs_a_login(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_non_staff_user_cannot_get_in(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-123456789")
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302


def test_staff_see_every_analysis(admin_client, analyses):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "You are a complete idiot" in html and "Have a lovely day" in html
    assert "97.0%" in html


def test_staff_filter_by_verdict(admin_client, analyses):
    html = admin_client.get(CHANGELIST, {"verdict__exact": "toxic"}).content.decode()
    assert "You are a complete idiot" in html
    assert "Have a lovely day" not in html


def test_staff_search_the_text(admin_client, analyses):
    html = admin_client.get(CHANGELIST, {"q": "lovely"}).content.decode()
    assert "Have a lovely day" in html
    assert "complete idiot" not in html


def test_one_analysis_shows_all_its_scores(admin_client, analyses, fake_engine):
    url = reverse("admin:analyzer_analysis_change", args=[analyses[0].pk])
    html = admin_client.get(url).content.decode()
    for label in fake_engine.labels:
        assert f"{label}:" in html
    assert "(flagged)" in html


def test_analyses_cannot_be_added_or_edited_by_hand(admin_client, analyses):
    assert admin_client.get(reverse("admin:analyzer_analysis_add")).status_code == 403
    url = reverse("admin:analyzer_analysis_change", args=[analyses[0].pk])
    admin_client.post(url, {"text": "rewritten"})
    assert Analysis.objects.filter(text="rewritten").count() == 0


def test_selected_analyses_export_as_csv_with_every_label(admin_client, analyses, fake_engine):
    response = admin_client.post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [analyses[0].pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["text"] == "You are a complete idiot"
    assert rows[0]["verdict"] == "toxic"
    assert float(rows[0]["insult"]) == pytest.approx(0.91)
    assert rows[0]["action"] == "block"
    assert rows[0]["policy_version"] == str(analyses[0].policy_version_id)
    assert set(fake_engine.labels) <= set(rows[0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("@x", "'@x"), ("hello", "hello"), (3, 3)],
)
def test_csv_cells_never_start_a_spreadsheet_formula(value, expected):
    assert spreadsheet_safe(value) == expected


def test_an_export_of_20000_analyses_is_streamed_page_by_page_and_complete(
    admin_client, fake_engine
):
    labels = {"toxic": 0.9, "insult": 0.8}
    Analysis.objects.bulk_create(
        [
            Analysis(
                text=f"text {n}",
                scores=labels if n % 2 else {"offensive": 0.1},
                verdict="toxic" if n % 2 else "not_toxic",
                top_label="toxic" if n % 2 else "offensive",
                max_score=0.9 if n % 2 else 0.1,
                threshold=0.5,
                engine="fake" if n % 2 else "profanity-check",
                model_name="fake-toxic-bert" if n % 2 else "alt-profanity-check",
                latency_ms=1.0,
                source=Source.FORM,
            )
            for n in range(20_000)
        ],
        batch_size=2_000,
    )
    one = Analysis.objects.values_list("pk", flat=True).first()
    response = admin_client.post(
        CHANGELIST, {"action": "export_csv", "select_across": "1", "_selected_action": [one]}
    )
    assert response.status_code == 200 and response.streaming
    pieces = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before_first_page:
        header = next(pieces)
        first_page = next(pieces)
    assert len(before_first_page) <= 4, "the first rows go out after a few small queries"
    with CaptureQueriesContext(connection) as rest:
        remaining = list(pieces)
    assert len(remaining) == 20_000 // csv_export.PAGE_SIZE - 1
    assert all(f"LIMIT {csv_export.PAGE_SIZE}" in query["sql"] for query in rest)
    rows = list(csv.DictReader(io.StringIO(b"".join([header, first_page, *remaining]).decode())))
    assert len(rows) == 20_000
    assert [row["text"] for row in rows] == [f"text {n}" for n in range(20_000)]
    assert {"toxic", "insult", "offensive"} <= set(rows[0])
    assert rows[1]["insult"] == "0.8" and rows[0]["insult"] == ""
