"""Serve the app under gunicorn once per run and drive it with Debian's chromium.

Every test gets a watched page: console errors, uncaught exceptions, failed requests, error
responses of sub-resources and dialogs fail the test, and a failing test leaves a screenshot and
the page's HTML in reports/e2e/.
"""

import json
import re
import shutil
import sqlite3
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Frame, Page, Request, Response

from tests.serving import ROOT, LiveApp, served_app

REPORT_DIR = ROOT / "reports" / "e2e"
CHROMIUM = "/usr/bin/chromium"
# Headless and quiet: no sandbox (CI runs as root in a container), no GPU, and no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Low enough that an over-long text is quick to type in a test.
MAX_CHARS = 200
STAFF_USERNAME = "moderator"
# A throwaway account in a temporary database.
STAFF_PASSWORD = "e2e-only-password-4f9c2a"
# What Chromium logs when a document answers 400; expected only where a test expects a 400.
BAD_REQUEST_CONSOLE_MESSAGE = (
    "Failed to load resource: the server responded with a status of 400 (Bad Request)"
)

PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system chromium; Playwright never downloads a browser here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app under gunicorn with the offline engine, a real model whose verdicts are known."""
    workdir = tmp_path_factory.mktemp("e2e-app")
    # The model is never fetched into this fresh workdir, so the fallback engine answers.
    with served_app(
        workdir,
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="0",
        TOXMON_MAX_CHARS=str(MAX_CHARS),
    ) as app:
        try:
            yield app
        finally:
            REPORT_DIR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(app.log, REPORT_DIR / "gunicorn.log")


@pytest.fixture(scope="session")
def engine_labels(live_app: LiveApp) -> list[str]:
    """The labels of the engine the app serves, as /healthz reports them."""
    with urllib.request.urlopen(f"{live_app.url}/healthz", timeout=10) as response:
        health = json.load(response)
    assert health["status"] == "ok"
    assert health["fallback"] is True, f"expected the offline engine, got {health}"
    return health["labels"]


@pytest.fixture(scope="session")
def staff_user(live_app: LiveApp) -> tuple[str, str]:
    """A superuser in the served app's database; returns (username, password)."""
    live_app.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_superuser({STAFF_USERNAME!r}, "
        f"'moderator@example.com', {STAFF_PASSWORD!r})",
    )
    return STAFF_USERNAME, STAFF_PASSWORD


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict, live_app: LiveApp) -> dict:
    return {**browser_context_args, "base_url": live_app.url, "accept_downloads": True}


class AnalysisTable:
    """Read the served app's analyses straight from its SQLite file."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def _query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()

    def count(self) -> int:
        return self._query("SELECT COUNT(*) FROM analyzer_analysis")[0][0]

    def verdicts_of(self, text: str) -> list[str]:
        """Return the verdict of every stored analysis of exactly this text."""
        rows = self._query("SELECT verdict FROM analyzer_analysis WHERE text = ?", text)
        return [verdict for (verdict,) in rows]


@pytest.fixture
def analyses(live_app: LiveApp) -> AnalysisTable:
    return AnalysisTable(live_app.database)


@dataclass
class PageWatch:
    """What went wrong in the browser while a test ran."""

    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed_requests: list[Request] = field(default_factory=list)
    download_urls: set[str] = field(default_factory=set)
    bad_request_expected: bool = False
    # How many documents the tab has shown, and how many it had shown when each request left.
    documents: int = 0
    documents_at_request: dict[Request, int] = field(default_factory=dict)

    def expect_bad_request(self) -> None:
        """Allow 400 document answers, and Chromium's console line about them, in this test."""
        self.bad_request_expected = True

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)
        page.on("dialog", self.on_dialog)
        page.on("download", lambda download: self.download_urls.add(download.url))
        page.on("request", self.on_request)
        page.on("framenavigated", lambda frame: self.on_frame_navigated(page, frame))

    def on_request(self, request: Request) -> None:
        self.documents_at_request[request] = self.documents

    def on_frame_navigated(self, page: Page, frame: Frame) -> None:
        if frame == page.main_frame:
            self.documents += 1

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.text == BAD_REQUEST_CONSOLE_MESSAGE and self.bad_request_expected:
            return
        self.problems.append(f"console error: {message.text} ({message.location})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_request_failed(self, request: Request) -> None:
        # Judged at the end: a download's request fails before its download event arrives.
        self.failed_requests.append(request)

    def on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        expected = (
            response.status == 400
            and response.request.resource_type == "document"
            and self.bad_request_expected
        )
        if not expected:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def left_behind(self, request: Request) -> bool:
        """Tell whether the tab moved to another document after request was sent."""
        return request.resource_type in {"fetch", "xhr"} and self.documents > (
            self.documents_at_request.get(request, self.documents)
        )

    def request_problems(self) -> list[str]:
        """Return the failed requests, less those the browser cancels on purpose."""
        problems = []
        for request in self.failed_requests:
            if request.failure == "net::ERR_ABORTED" and (
                # A response saved as a file ends its request this way.
                request.url in self.download_urls
                # Chromium fetches the icon after the load event and drops it on navigation.
                or "favicon" in request.url
                # A fetch still running when the user follows a link is dropped with its page.
                or self.left_behind(request)
            ):
                continue
            problems.append(f"request failed: {request.method} {request.url}: {request.failure}")
        return problems

    def all_problems(self) -> list[str]:
        return (
            self.problems
            + self.request_problems()
            + [f"dialog opened: {dialog}" for dialog in self.dialogs]
        )


def artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")


def save_artifacts(page: Page, name: str) -> list[Path]:
    """Save a full-page screenshot and the HTML of page under reports/e2e/."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = REPORT_DIR / f"{name}.png"
    html = REPORT_DIR / f"{name}.html"
    page.screenshot(path=screenshot, full_page=True)
    html.write_text(page.content(), encoding="utf-8")
    return [screenshot, html]


def judge_page(page: Page, watch: PageWatch, node: pytest.Item) -> None:
    """Save the page's artifacts if the test failed, and fail it if the browser saw problems."""
    name = artifact_name(node.nodeid)
    call = node.stash.get(PHASE_REPORTS, {}).get("call")
    if call is not None and call.failed:
        # The failure is reported already; keep what the page looked like.
        save_artifacts(page, name)
        return
    problems = watch.all_problems()
    if problems:
        saved = save_artifacts(page, name)
        pytest.fail(
            "the browser reported problems:\n  "
            + "\n  ".join(problems)
            + f"\nsaved: {', '.join(map(str, saved))}"
        )


@pytest.fixture(autouse=True)
def page_watch(page: Page, request: pytest.FixtureRequest) -> Iterator[PageWatch]:
    """Watch the page for errors; save a screenshot and the HTML when the test fails."""
    watch = PageWatch()
    watch.watch(page)
    yield watch
    judge_page(page, watch, request.node)
