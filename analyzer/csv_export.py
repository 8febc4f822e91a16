"""Analyses as a CSV file, for admin's export and a batch's results."""

import csv

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from analyzer.models import Analysis

CSV_FIXED_COLUMNS = [
    "id",
    "created_at",
    "text",
    "verdict",
    "action",
    "top_label",
    "max_score",
    "threshold",
    "policy_version",
    "engine",
    "model",
    "latency_ms",
    "windows",
    "source",
    "batch",
    "line",
]
# A cell starting with one of these runs as a formula when a spreadsheet opens the file.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Return value with a leading apostrophe if a spreadsheet would take it for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def analyses_csv(queryset: QuerySet[Analysis], *, filename: str = "") -> HttpResponse:
    """Return the analyses as a CSV file with one column per label seen among them."""
    labels: dict[str, None] = {}
    for scores in queryset.values_list("scores", flat=True):
        labels.update(dict.fromkeys(scores))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = filename or f"toxmon-analyses-{stamp}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(CSV_FIXED_COLUMNS + list(labels))
    for analysis in queryset.iterator():
        row = [
            analysis.pk,
            analysis.created_at.isoformat(),
            analysis.text,
            analysis.verdict,
            analysis.action,
            analysis.top_label,
            analysis.max_score,
            analysis.threshold,
            analysis.policy_version_id or "",
            analysis.engine,
            analysis.model_name,
            analysis.latency_ms,
            analysis.windows,
            analysis.source,
            analysis.batch_id or "",
            analysis.batch_line or "",
        ]
        row += [analysis.scores.get(label, "") for label in labels]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response
