"""A lead sets a label policy and a webhook, a moderator works the review queue and reads the
calibration report, the lead applies its suggestion, and the next analysis follows it.

The screenshots go to reports/e2e/moderation/, and to docs/images/ (for docs/moderation.md)
when TOXMON_DOCS_SCREENSHOTS=1 (`make docs-screenshots`).
"""

import contextlib
import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import REPORT_DIR
from tests.serving import ROOT, LiveApp, db_worker, free_port, served_app

LEAD = ("lead", "e2e-only-lead-password-81c4")
MODERATOR = ("mod", "e2e-only-moderator-password-3b9f")
SCREENSHOT_DIR = REPORT_DIR / "moderation"
DOCS_IMAGES = ROOT / "docs" / "images"
# The offline engine's "offensive" scores (alt-profanity-check 1.9.1): the first three are
# insults (reviewers say toxic), the next two only sound rude (reviewers say not toxic).
INSULTS = ["You are a complete idiot", "you suck", "go to hell"]  # 0.9999, 0.9998, 0.9914
RUDE_SOUNDING = ["damn it", "what a dumb idea"]  # 0.9778, 0.9026
MIN_REVIEWS = 5


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    """A webhook receiver on 127.0.0.1 that accepts everything; returns its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/toxmon"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def moderation_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app with the offline engine, its task worker, a lead and a moderator."""
    with served_app(
        tmp_path_factory.mktemp("e2e-moderation"),
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="0",
        TOXMON_CALIBRATION_MIN_REVIEWS=str(MIN_REVIEWS),
    ) as app:
        app.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import Group, User\n"
            f"User.objects.create_superuser({LEAD[0]!r}, 'lead@example.com', {LEAD[1]!r})\n"
            f"mod = User.objects.create_user({MODERATOR[0]!r}, password={MODERATOR[1]!r}, "
            "is_staff=True)\n"
            "mod.groups.add(Group.objects.get(name='moderators'))",
        )
        yield app


@pytest.fixture
def start_task_worker(moderation_app: LiveApp) -> Iterator[Callable[[], object]]:
    """Start the task worker when called, once admin's forms have been saved.

    On SQLite the worker takes an exclusive lock at every poll, and a Django admin form, which
    reads before it writes in one transaction, fails to take the write lock meanwhile; the
    server's SQLite settings (IMMEDIATE transactions) are what cures that, not this test.
    """
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(db_worker(moderation_app))


def shoot(page: Page, name: str) -> None:
    """Save a screenshot for the report, and for the docs when asked to."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"moderation-{name}.png"
    page.screenshot(path=path, full_page=True)
    if os.environ.get("TOXMON_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / path.name)


def log_in(page: Page, app: LiveApp, user: tuple[str, str]) -> None:
    page.goto(f"{app.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    # LOGOUT_REDIRECT_URL brings everyone back to the form, signed out.
    expect(page.get_by_role("heading", name="Check a text for toxicity")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def analyze(page: Page, app: LiveApp, text: str) -> str:
    """Analyze a text with the form; return the action the page shows."""
    page.goto(f"{app.url}/")
    page.get_by_label("Sentence or comment").fill(text)
    page.get_by_label("Show which words raised the score").uncheck()
    page.get_by_role("button", name="Analyze").click()
    action = page.locator("p.action")
    expect(action).to_be_visible()
    return action.get_attribute("data-action") or ""


def open_calibration(page: Page, app: LiveApp) -> None:
    page.goto(f"{app.url}/admin/analyzer/analysis/")
    page.get_by_role("link", name="Calibration report").click()
    expect(page.get_by_role("heading", name="Calibration report")).to_be_visible()


def reviews_count(page: Page) -> int:
    return int(page.locator("#label-offensive .reviews-count").get_attribute("data-count") or -1)


def test_a_moderator_works_the_queue_and_the_lead_applies_the_calibration_suggestion(
    page: Page, moderation_app: LiveApp, receiver: str, start_task_worker: Callable[[], object]
) -> None:
    app = moderation_app
    page.set_viewport_size({"width": 1280, "height": 900})

    # The lead sends every offensive score from 5% to a person, and tells a chat room about it.
    log_in(page, app, LEAD)
    page.goto(f"{app.url}/admin/analyzer/labelpolicy/")
    page.locator("#result_list").get_by_role("link", name="offensive", exact=True).click()
    page.get_by_label("Review threshold").fill("0.05")
    page.get_by_label("Block threshold").fill("1")
    page.get_by_label("Reason for the change").fill("Everything offensive goes to a person first")
    shoot(page, "policy-edit")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("New analyses are judged under")

    page.goto(f"{app.url}/admin/analyzer/webhookendpoint/add/")
    page.get_by_label("Name").fill("Moderators' chat room")
    page.get_by_label("URL").fill(receiver)
    page.get_by_label("Secret").fill("e2e-webhook-secret-0123456789")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    log_out(page)
    start_task_worker()

    # Texts arrive through the form; each goes to review.
    for text in INSULTS + RUDE_SOUNDING:
        assert analyze(page, app, text) == "review", text
    shoot(page, "result-review")

    # The moderator opens the queue: the five texts, oldest first.
    log_in(page, app, MODERATOR)
    page.goto(f"{app.url}/admin/analyzer/analysis/")
    page.get_by_role("link", name="Review queue").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(5)
    listed = [rows.nth(n).locator(".field-short_text").inner_text() for n in range(5)]
    assert listed == INSULTS + RUDE_SOUNDING
    shoot(page, "review-queue")

    open_calibration(page, app)
    assert reviews_count(page) == 0
    expect(page.locator("#label-offensive .reviews-needed")).to_contain_text(
        f"{MIN_REVIEWS} more reviews needed"
    )

    # Three insults decided at once from the list.
    page.goto(f"{app.url}/admin/analyzer/analysis/?review=needs")
    for text in INSULTS:
        row = page.locator("#result_list tbody tr", has_text=text)
        row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(
        label="Decide: toxic (the flagged labels were right)"
    )
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("Recorded “Toxic” on 3 analyses")
    expect(rows).to_have_count(2)

    open_calibration(page, app)
    assert reviews_count(page) == 3
    expect(page.locator("#label-offensive .reviews-needed")).to_contain_text(
        "2 more reviews needed"
    )

    # The two that only sound rude, one by one from their pages, with a note.
    page.goto(f"{app.url}/admin/analyzer/analysis/?review=needs")
    page.locator("#result_list tbody tr").first.locator("th.field-short_text a").click()
    for text in RUDE_SOUNDING:
        expect(page.locator(".field-text")).to_contain_text(text)
        page.get_by_label("Not toxic", exact=True).check()
        page.get_by_label("Note", exact=True).fill("Rude words, but aimed at nobody")
        if text == RUDE_SOUNDING[0]:
            shoot(page, "review-form")
        page.get_by_role("button", name="Record decision").click()
        expect(page.locator(".messagelist")).to_contain_text("Decision recorded")
    expect(page.locator(".messagelist")).to_contain_text("The review queue is empty")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)

    # Enough reviews now: the curve and a suggestion, which a moderator may not apply.
    open_calibration(page, app)
    assert reviews_count(page) == MIN_REVIEWS
    section = page.locator("#label-offensive")
    curve = section.locator("img.pr-curve")
    expect(curve).to_be_visible()
    assert curve.evaluate("image => image.complete && image.naturalWidth > 0")
    suggested = section.locator(".suggested-threshold").inner_text()
    assert suggested == "99.1%", suggested
    expect(section.get_by_role("button")).to_have_count(0)
    log_out(page)

    # The lead applies it as the review threshold: one click, a new policy version.
    log_in(page, app, LEAD)
    open_calibration(page, app)
    shoot(page, "calibration")
    page.get_by_role("button", name="Apply as offensive's review threshold").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "The review threshold of offensive is now 99.1%"
    )
    page.goto(f"{app.url}/admin/analyzer/labelpolicy/")
    page.locator("#result_list").get_by_role("link", name="offensive", exact=True).click()
    page.get_by_role("link", name="History").click()
    expect(page.locator("#change-history")).to_contain_text("Calibration suggestion applied")
    shoot(page, "policy-history")

    page.goto(f"{app.url}/admin/analyzer/webhookdelivery/")
    expect(page.locator("#result_list tbody tr")).to_have_count(5)
    expect(page.locator("#result_list tbody td.field-status").first).to_have_text("Delivered")
    shoot(page, "webhook-deliveries")
    log_out(page)

    # The next analysis of a rude-sounding text is allowed now; an insult still goes to review.
    assert analyze(page, app, RUDE_SOUNDING[1]) == "allow"
    assert analyze(page, app, INSULTS[0]) == "review"
    shoot(page, "result-after-calibration")
