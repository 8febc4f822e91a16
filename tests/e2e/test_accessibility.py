"""axe-core finds no serious or critical accessibility violations on the app's pages."""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import REPORT_DIR, PageWatch
from tests.e2e.pages import FRIENDLY, HOSTILE, AnalyzePage

BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def blocking_violations(axe: Axe, page: Page, name: str) -> list[str]:
    """Run axe-core in page, keep its full answer in reports/e2e/, return the blocking ones."""
    results = axe.run(page)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"axe-{name}.json").write_text(
        json.dumps(results.response["violations"], indent=2), encoding="utf-8"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def test_form_page_has_no_serious_accessibility_violations(page: Page, axe: Axe) -> None:
    AnalyzePage(page).open()

    assert blocking_violations(axe, page, "form") == []


@pytest.mark.parametrize("text", [HOSTILE, FRIENDLY], ids=["toxic", "not-toxic"])
def test_results_page_has_no_serious_accessibility_violations(
    text: str, page: Page, axe: Axe
) -> None:
    analyze_page = AnalyzePage(page)
    assert analyze_page.analyze(text).status == 200
    assert analyze_page.score_rows.count() > 0

    assert (
        blocking_violations(
            axe, page, f"results-{analyze_page.verdict.get_attribute('data-verdict')}"
        )
        == []
    )


def test_results_page_with_its_highlights_has_no_serious_accessibility_violations(
    page: Page, axe: Axe
) -> None:
    analyze_page = AnalyzePage(page)
    assert analyze_page.analyze(f"Have a lovely day. {HOSTILE}.").status == 200
    # Two sentences: the highlights arrive with the table of the sentence explained.
    expect(page.locator("table.sentences")).to_be_visible()
    expect(page.locator(".explained-text mark").first).to_be_visible()

    assert blocking_violations(axe, page, "results-explained") == []


def test_error_page_has_no_serious_accessibility_violations(
    page: Page, axe: Axe, page_watch: PageWatch
) -> None:
    page_watch.expect_bad_request()
    analyze_page = AnalyzePage(page)
    assert analyze_page.analyze("").status == 400

    assert blocking_violations(axe, page, "error") == []
