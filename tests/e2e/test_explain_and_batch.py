"""Word explanations and a batch upload, in a real browser against gunicorn and the worker."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.test_admin_journey import log_in
from tests.serving import LiveApp
from tests.serving import db_worker as db_worker_running

BATCH_TEXTS = 400


@pytest.fixture(scope="module")
def db_worker(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run the task worker beside the served app; stopped at exit, also when a test fails."""
    with db_worker_running(live_app, log=tmp_path_factory.mktemp("worker") / "db_worker.log"):
        yield


INSULT_AMONG_FRIENDLY_WORDS = (
    "Thanks for the lovely and helpful answer, you idiot, have a wonderful day"
)


def test_the_insult_is_the_most_highlighted_word_with_a_legend(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Sentence or comment").fill(INSULT_AMONG_FRIENDLY_WORDS)
    expect(page.get_by_label("Show which words raised the score")).to_be_checked()
    page.get_by_role("button", name="Analyze").click()

    marks = page.locator(".explained-text mark")
    expect(marks.first).to_be_visible()
    contributions = {
        mark.inner_text(): float(mark.get_attribute("data-contribution") or "0")
        for mark in marks.all()
    }
    assert max(contributions, key=contributions.get) == "idiot"
    expect(page.locator(".explained-text mark", has_text="idiot")).to_have_class(
        "contribution contribution-strong"
    )
    legend = page.get_by_role("list", name="Legend")
    expect(legend.locator("li")).to_have_count(4)
    expect(legend).to_contain_text("raises the score a lot")


def test_the_verdict_is_shown_first_and_the_highlights_arrive_after_it(page: Page) -> None:
    held: list[Route] = []
    # The explanation request is held until the verdict has been seen without highlights.
    page.route("**/explanations/**", lambda route: held.append(route))
    page.goto("/")
    page.get_by_label("Sentence or comment").fill(INSULT_AMONG_FRIENDLY_WORDS)
    page.get_by_role("button", name="Analyze").click()

    expect(page.locator("p.verdict")).to_have_attribute("data-verdict", "toxic")
    expect(page.locator("table.scores tbody tr").first).to_be_visible()
    expect(page.locator("[data-explanation-state=pending]")).to_contain_text("Finding the words")
    expect(page.locator(".explained-text mark")).to_have_count(0)
    for _tick in range(100):  # the script's request reaches the route soon after the load
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1 and "fragment=1" in held[0].request.url

    held[0].continue_()
    expect(page.locator(".explained-text mark", has_text="idiot")).to_be_visible()
    expect(page.locator("[data-explanation-state]")).to_have_count(0)
    expect(page.locator("#explanation")).to_contain_text("Each word was removed in turn")


def test_without_javascript_the_link_shows_the_highlights(
    browser: Browser, live_app: LiveApp
) -> None:
    context = browser.new_context(base_url=live_app.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Sentence or comment").fill(INSULT_AMONG_FRIENDLY_WORDS)
        page.get_by_role("button", name="Analyze").click()
        expect(page.locator("p.verdict")).to_have_attribute("data-verdict", "toxic")
        expect(page.locator(".explained-text mark")).to_have_count(0)

        page.get_by_role("link", name="Show which words raised the score").click()
        expect(page.locator("p.verdict")).to_have_attribute("data-verdict", "toxic")
        expect(page.locator(".explained-text mark", has_text="idiot")).to_have_class(
            "contribution contribution-strong"
        )
    finally:
        context.close()


def test_a_batch_upload_shows_its_progress_bar_reach_100_percent_and_a_summary(
    page: Page, db_worker: None, staff_user: tuple[str, str]
) -> None:
    lines = [
        f"comment {n}: {'you are a complete idiot' if n % 4 == 0 else 'have a lovely day'}"
        for n in range(BATCH_TEXTS)
    ]
    page.goto("/batches/")
    # Batches need a login: the page sends a visitor to it, and back after.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/batches/$"))
    log_in(page, *staff_user)
    expect(page).to_have_url(re.compile(r"/batches/$"))
    page.get_by_label("File of texts").set_input_files(
        files=[
            {
                "name": "comments.txt",
                "mimeType": "text/plain",
                "buffer": "\n".join(lines).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and analyze").click()

    progress = page.locator("#batch-progress")
    expect(progress).to_have_attribute("max", str(BATCH_TEXTS))
    expect(progress).to_have_attribute("value", str(BATCH_TEXTS), timeout=90_000)
    expect(page.get_by_role("heading", name="Summary")).to_be_visible(timeout=30_000)
    expect(page.locator("#batch-status")).to_have_text("Done")
    expect(page.locator("#batch-counts")).to_contain_text(f"{BATCH_TEXTS} of {BATCH_TEXTS}")
    expect(page.locator("#batch-counts")).to_contain_text("100.0")
    expect(page.locator("[data-toxic-share]")).to_contain_text("100 (25.0%)")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download every text with its scores (CSV)").click()
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert len(csv_text.strip().splitlines()) == BATCH_TEXTS + 1
