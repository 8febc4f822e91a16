"""Admin of analyses: filters, search, scores, CSV export, with the review decisions and the
calibration report built on (analyzer/admin/reviews.py, analyzer/admin/calibration.py)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from analyzer.admin.calibration import CalibrationAnalysisAdmin
from analyzer.admin.feedback import FeedbackInline
from analyzer.admin.reviews import ReviewAnalysisAdmin, ReviewStateFilter
from analyzer.csv_export import analyses_csv
from analyzer.models import Analysis


@admin.register(Analysis)
class AnalysisAdmin(CalibrationAnalysisAdmin, ReviewAnalysisAdmin):
    # The list links the review queue and the calibration report.
    change_list_template = "admin/analyzer/analysis/change_list.html"
    list_display = [
        "short_text",
        "verdict",
        "action",
        "review_state",
        "top_label",
        "max_score_percent",
        "model_name",
        "latency_ms",
        "created_at",
    ]
    list_filter = [
        ReviewStateFilter,
        "action",
        "verdict",
        "top_label",
        "model_name",
        "engine",
        "source",
        "normalized",
        "created_at",
    ]
    search_fields = ["text", "community_id", "session_id", "client_token"]
    date_hierarchy = "created_at"
    actions = ["review_toxic", "review_not_toxic", "review_with_note", "export_csv"]
    fields = (
        "text",
        "verdict",
        "action",
        "action_labels_display",
        "policy_link",
        "top_label",
        "max_score",
        "threshold",
        "scores_table",
        "engine",
        "model_name",
        "latency_ms",
        "windows",
        "normalized",
        "source",
        "batch_link",
        "batch_line",
        "community_id",
        "session_id",
        "client_token",
        "created_at",
    )
    readonly_fields = fields
    inlines = [FeedbackInline]
    list_per_page = 50

    @admin.display(description="text")
    def short_text(self, analysis: Analysis) -> str:
        return analysis.text if len(analysis.text) <= 80 else analysis.text[:79] + "…"

    @admin.display(description="max score", ordering="max_score")
    def max_score_percent(self, analysis: Analysis) -> str:
        return f"{analysis.max_score:.1%}"

    @admin.display(description="scores")
    def scores_table(self, analysis: Analysis) -> str:
        return format_html_join(
            "\n",
            "<div>{}: {} {} {}</div>",
            (
                (
                    row.label,
                    f"{row.score:.1%}",
                    "(flagged)" if row.flagged else "",
                    "" if row.action == "allow" else f"→ {row.action}",
                )
                for row in analysis.label_scores
            ),
        )

    @admin.display(description="labels that made the action")
    def action_labels_display(self, analysis: Analysis) -> str:
        return ", ".join(analysis.action_labels) or str(self.get_empty_value_display())

    @admin.display(description="policy version")
    def policy_link(self, analysis: Analysis) -> str:
        if analysis.policy_version_id is None:
            return "Before label policies"
        url = reverse("admin:analyzer_policyversion_change", args=[analysis.policy_version_id])
        return format_html('<a href="{}">{}</a>', url, analysis.policy_version)

    @admin.display(description="batch")
    def batch_link(self, analysis: Analysis) -> str:
        if analysis.batch_id is None:
            return self.get_empty_value_display()
        url = reverse("admin:analyzer_batch_change", args=[analysis.batch_id])
        return format_html('<a href="{}">{}</a>', url, analysis.batch)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Analysis]:
        return super().get_queryset(request).select_related("policy_version", "batch")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The batch page links to its analyses with ?batch__id__exact=<id>.
        return lookup == "batch__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.action(description="Export selected analyses as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Analysis]
    ) -> StreamingHttpResponse:
        return analyses_csv(queryset)

    # Analyses are records of what the model said: made by the app, never edited by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Analysis | None = None) -> bool:
        return False
