import csv

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html_join

from analyzer.models import Analysis

CSV_FIXED_COLUMNS = [
    "id",
    "created_at",
    "text",
    "verdict",
    "top_label",
    "max_score",
    "threshold",
    "engine",
    "model",
    "latency_ms",
    "windows",
]
# A cell starting with one of these runs as a formula when a spreadsheet opens the file.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Return value with a leading apostrophe if a spreadsheet would take it for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def analyses_csv(queryset: QuerySet[Analysis]) -> HttpResponse:
    """Return the analyses as a CSV file with one column per label seen among them."""
    labels: dict[str, None] = {}
    for scores in queryset.values_list("scores", flat=True):
        labels.update(dict.fromkeys(scores))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="toxmon-analyses-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_FIXED_COLUMNS + list(labels))
    for analysis in queryset.iterator():
        row = [
            analysis.pk,
            analysis.created_at.isoformat(),
            analysis.text,
            analysis.verdict,
            analysis.top_label,
            analysis.max_score,
            analysis.threshold,
            analysis.engine,
            analysis.model_name,
            analysis.latency_ms,
            analysis.windows,
        ]
        row += [analysis.scores.get(label, "") for label in labels]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = [
        "short_text",
        "verdict",
        "top_label",
        "max_score_percent",
        "model_name",
        "latency_ms",
        "created_at",
    ]
    list_filter = ["verdict", "top_label", "model_name", "engine", "created_at"]
    search_fields = ["text"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    fields = [
        "text",
        "verdict",
        "top_label",
        "max_score",
        "threshold",
        "scores_table",
        "engine",
        "model_name",
        "latency_ms",
        "windows",
        "created_at",
    ]
    readonly_fields = fields
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
            "<div>{}: {} {}</div>",
            (
                (row.label, f"{row.score:.1%}", "(flagged)" if row.flagged else "")
                for row in analysis.label_scores
            ),
        )

    @admin.action(description="Export selected analyses as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Analysis]) -> HttpResponse:
        return analyses_csv(queryset)

    # Analyses are records of what the model said: made by the app, never edited by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Analysis | None = None) -> bool:
        return False
