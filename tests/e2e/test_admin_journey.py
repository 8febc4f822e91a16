"""A staff user finds, filters and exports analyses in the admin."""

import csv
import re
import uuid
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.pages import AnalyzePage


def log_in(page: Page, username: str, password: str) -> None:
    """Fill in the admin's login form, which the page shows now."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_staff_user_finds_filters_and_exports_the_analysis_just_made(
    page: Page, staff_user: tuple[str, str]
) -> None:
    marker = uuid.uuid4().hex[:12]
    hostile = f"You are a complete idiot, case {marker}"
    friendly = f"Have a lovely day, my friend, case {marker}"
    analyze_page = AnalyzePage(page)
    for text in (hostile, friendly):
        assert analyze_page.analyze(text).status == 200

    page.get_by_role("link", name="Past analyses").click()
    log_in(page, *staff_user)
    expect(page).to_have_url(re.compile(r"/admin/analyzer/analysis/$"))
    page.locator("#searchbar").fill(marker)
    page.locator("#searchbar").press("Enter")
    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(2)

    page.locator("#changelist-filter").get_by_role("link", name="Toxic", exact=True).click()
    expect(page).to_have_url(re.compile(r"verdict__exact=toxic"))
    assert parse_qs(urlsplit(page.url).query) == {"q": [marker], "verdict__exact": ["toxic"]}
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(hostile)

    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(label="Export selected analyses as CSV")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Go").click()
    download = download_info.value
    assert download.suggested_filename.startswith("toxmon-analyses-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8", newline="") as exported:
        rows = list(csv.DictReader(exported))

    assert [row["text"] for row in rows] == [hostile]
    assert rows[0]["verdict"] == "toxic"
    assert float(rows[0]["offensive"]) >= 0.5
