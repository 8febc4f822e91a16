"""The analyze page as a user sees it: what to click and where to look."""

from playwright.sync_api import Locator, Page, Response

HOSTILE = "You are a complete idiot"
FRIENDLY = "Have a lovely day, my friend"


class AnalyzePage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.text = page.get_by_label("Sentence or comment")
        self.analyze_button = page.get_by_role("button", name="Analyze")
        self.verdict = page.locator("p.verdict")
        self.score_rows = page.locator("table.scores tbody tr")
        self.errors = page.locator("#text-errors")
        self.counter = page.locator("#text-count")
        self.analyzed_text = page.locator("blockquote.analyzed-text")

    def open(self) -> Response:
        response = self.page.goto("/")
        assert response is not None and response.status == 200
        return response

    def submit(self) -> Response:
        """Click Analyze and return the answer to the form's POST."""
        with self.page.expect_response(
            lambda response: (
                response.request.method == "POST" and response.request.resource_type == "document"
            )
        ) as answer:
            self.analyze_button.click()
        self.page.wait_for_load_state()
        return answer.value

    def analyze(self, text: str) -> Response:
        """Open the form, type text and submit it."""
        self.open()
        self.text.fill(text)
        return self.submit()

    def score_labels(self) -> list[str]:
        return [row.get_attribute("data-label") or "" for row in self.score_rows.all()]

    def error_messages(self) -> Locator:
        return self.errors.locator("p")
