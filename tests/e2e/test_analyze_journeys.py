"""What a moderator does on the analyze page, in a real browser against gunicorn."""

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import MAX_CHARS, AnalysisTable, PageWatch
from tests.e2e.pages import FRIENDLY, HOSTILE, AnalyzePage


@pytest.fixture
def analyze_page(page: Page) -> AnalyzePage:
    return AnalyzePage(page)


def test_hostile_sentence_is_toxic_with_a_row_per_label_and_stays_in_the_form(
    analyze_page: AnalyzePage, engine_labels: list[str], analyses: AnalysisTable
) -> None:
    stored_before = len(analyses.verdicts_of(HOSTILE))

    response = analyze_page.analyze(HOSTILE)

    assert response.status == 200
    expect(analyze_page.verdict).to_have_attribute("data-verdict", "toxic")
    expect(analyze_page.verdict).to_have_text("Toxic")
    assert analyze_page.score_labels() == engine_labels
    expect(analyze_page.text).to_have_value(HOSTILE)
    assert analyses.verdicts_of(HOSTILE) == ["toxic"] * (stored_before + 1)


def test_friendly_sentence_is_not_toxic(analyze_page: AnalyzePage, analyses: AnalysisTable) -> None:
    response = analyze_page.analyze(FRIENDLY)

    assert response.status == 200
    expect(analyze_page.verdict).to_have_attribute("data-verdict", "not_toxic")
    expect(analyze_page.verdict).to_have_text("Not toxic")
    expect(analyze_page.text).to_have_value(FRIENDLY)
    assert "not_toxic" in analyses.verdicts_of(FRIENDLY)


@pytest.mark.parametrize("blank", ["", "   \n\t  "], ids=["empty", "whitespace"])
def test_blank_text_shows_the_error_and_nothing_is_stored(
    blank: str, analyze_page: AnalyzePage, analyses: AnalysisTable, page_watch: PageWatch
) -> None:
    page_watch.expect_bad_request()
    stored_before = analyses.count()

    response = analyze_page.analyze(blank)

    assert response.status == 400
    expect(analyze_page.errors).to_have_attribute("role", "alert")
    expect(analyze_page.error_messages()).to_have_text(["Enter a sentence or comment to analyze."])
    expect(analyze_page.text).to_have_attribute("aria-invalid", "true")
    expect(analyze_page.verdict).to_have_count(0)
    assert analyses.count() == stored_before


@pytest.mark.parametrize(
    "payload",
    [
        '<script>alert("xss")</script>',
        '<img src="x" onerror="alert(document.cookie)">',
        '"><svg onload=alert(1)>',
    ],
    ids=["script", "img-onerror", "svg-onload"],
)
def test_html_in_the_text_is_shown_as_text_and_never_runs(
    payload: str, analyze_page: AnalyzePage, page: Page, page_watch: PageWatch
) -> None:
    response = analyze_page.analyze(f"Look at this {payload} you idiot")

    assert response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    expect(analyze_page.analyzed_text).to_contain_text(payload)
    expect(analyze_page.text).to_have_value(f"Look at this {payload} you idiot")
    # The only script on the page is the app's own static file.
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("main img, main svg").count() == 0
    # Give a payload that slipped through a moment to fire before looking for dialogs.
    page.wait_for_timeout(300)
    assert page_watch.dialogs == []


def test_over_long_text_shows_the_length_message_and_keeps_the_text(
    analyze_page: AnalyzePage, analyses: AnalysisTable, page_watch: PageWatch
) -> None:
    page_watch.expect_bad_request()
    # Ends in a letter: the form strips surrounding whitespace before it counts.
    too_long = ("This comment goes on and on. " * 20)[: MAX_CHARS + 49] + "!"
    stored_before = analyses.count()
    analyze_page.open()
    # No maxlength: the browser must not cut pasted text short without saying so.
    assert analyze_page.text.get_attribute("maxlength") is None

    analyze_page.text.fill(too_long)
    # The counter (static/js/analyze.js) warns before the text is even sent.
    expect(analyze_page.counter).to_have_text(f"{MAX_CHARS + 50} / {MAX_CHARS} characters")
    expect(analyze_page.counter).to_have_class("errors")
    response = analyze_page.submit()

    assert response.status == 400
    expect(analyze_page.error_messages()).to_have_text(
        [f"The text is {MAX_CHARS + 50} characters long; the limit is {MAX_CHARS}. Shorten it."]
    )
    expect(analyze_page.text).to_have_value(too_long)
    assert analyses.count() == stored_before


def tab_to(page: Page, target: Locator, *, most: int = 15) -> None:
    """Press Tab until target has the focus, as a keyboard user would."""
    for _ in range(most):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def test_keyboard_alone_reaches_the_form_and_submits_it(
    analyze_page: AnalyzePage, page: Page
) -> None:
    analyze_page.open()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    tab_to(page, analyze_page.text)
    page.keyboard.type(HOSTILE)
    tab_to(page, analyze_page.analyze_button)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(analyze_page.verdict).to_have_attribute("data-verdict", "toxic")
    expect(analyze_page.text).to_have_value(HOSTILE)
