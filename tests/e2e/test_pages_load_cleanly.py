"""Every page loads without console errors, failed requests or error responses.

The test runs in a browser of its own: Chromium asks a site for /favicon.ico once per browser
and remembers the answer, so a shared browser would let an earlier test hide a missing icon.
After each page it waits for the network to go quiet, so late requests are made and judged.
"""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserType, Page, expect

from tests.e2e.conftest import PageWatch, judge_page
from tests.e2e.pages import HOSTILE, AnalyzePage
from tests.e2e.test_admin_journey import log_in


@pytest.fixture
def new_browser_page(
    browser_type: BrowserType,
    browser_type_launch_args: dict,
    browser_context_args: dict,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Page, PageWatch]]:
    """A watched page in a newly launched browser, with nothing cached from other tests."""
    browser = browser_type.launch(**browser_type_launch_args)
    try:
        page = browser.new_context(**browser_context_args).new_page()
        watch = PageWatch()
        watch.watch(page)
        yield page, watch
        judge_page(page, watch, request.node)
    finally:
        browser.close()


def test_every_page_loads_without_console_errors_or_failed_requests(
    new_browser_page: tuple[Page, PageWatch], staff_user: tuple[str, str]
) -> None:
    page, page_watch = new_browser_page
    analyze_page = AnalyzePage(page)
    visited = []

    analyze_page.open()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".banner-warning")).to_contain_text("Fallback engine active")
    visited.append(page.url)
    analyze_page.text.fill(HOSTILE)
    assert analyze_page.submit().status == 200
    page.wait_for_load_state("networkidle")
    visited.append(f"{page.url} (results)")
    healthz = page.goto("/healthz")
    assert healthz is not None and healthz.status == 200
    visited.append(page.url)

    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    visited.append(page.url)
    log_in(page, *staff_user)
    page.wait_for_load_state("networkidle")
    visited.append(page.url)
    for path in ("/admin/analyzer/analysis/", "/admin/analyzer/analysis/?verdict__exact=toxic"):
        response = page.goto(path)
        assert response is not None and response.status == 200
        page.wait_for_load_state("networkidle")
        visited.append(page.url)
    page.locator("#result_list tbody tr th a").first.click()
    expect(page).to_have_url(re.compile(r"/admin/analyzer/analysis/\d+/change/"))
    expect(page.locator("#content")).to_contain_text("offensive")
    page.wait_for_load_state("networkidle")
    visited.append(page.url)

    assert page_watch.all_problems() == [], f"problems on {visited}"
