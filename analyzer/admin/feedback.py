"""Admin of feedback: scores people suggested, inline on their analysis and listed on their own."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from analyzer.models import Analysis, Feedback


class FeedbackInline(admin.TabularInline):
    """Scores people suggested for this text through comments:suggestscore."""

    model = Feedback
    fields = ("scores", "span_scores", "community_id", "client_token", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Analysis | None = None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Suggested scores, each beside what the model said about the same text."""

    list_display = ["short_text", "suggested", "model_said", "community_id", "created_at"]
    list_filter = ["created_at", "community_id"]
    search_fields = ["analysis__text", "community_id", "client_token"]
    date_hierarchy = "created_at"
    fields = (
        "analysis_link",
        "scores",
        "span_scores",
        "community_id",
        "client_token",
        "created_at",
    )
    readonly_fields = fields
    list_select_related = ["analysis"]

    @admin.display(description="text")
    def short_text(self, feedback: Feedback) -> str:
        text = feedback.analysis.text
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="suggested")
    def suggested(self, feedback: Feedback) -> str:
        return ", ".join(f"{name} {score:.0%}" for name, score in feedback.scores.items()) or "—"

    @admin.display(description="model said")
    def model_said(self, feedback: Feedback) -> str:
        analysis = feedback.analysis
        return f"{analysis.get_verdict_display()} ({analysis.top_label} {analysis.max_score:.0%})"

    @admin.display(description="analysis")
    def analysis_link(self, feedback: Feedback) -> str:
        url = reverse("admin:analyzer_analysis_change", args=[feedback.analysis_id])
        return format_html('<a href="{}">{}</a>', url, feedback.analysis)

    # Feedback is what a client sent: kept as it came.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Feedback | None = None) -> bool:
        return False
