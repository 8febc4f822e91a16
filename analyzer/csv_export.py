"""Analyses as a CSV file, for admin's export and a batch's results."""

import csv
import io
from collections.abc import Iterator

from django.db.models import Min, QuerySet
from django.http import StreamingHttpResponse
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
    "normalized",
    "source",
    "batch",
    "line",
]
# Rows read per query. Each page is its own short read, so an export of 100,000 analyses neither
# sits in memory nor keeps one read open on the database for the whole download.
PAGE_SIZE = 1_000
# A cell starting with one of these runs as a formula when a spreadsheet opens the file.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Return value with a leading apostrophe if a spreadsheet would take it for a formula.

    Spreadsheets skip leading spaces and line breaks before a formula ("  =1+1" runs), so the
    first character after them counts too.
    """
    if isinstance(value, str) and (
        value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)
    ):
        return "'" + value
    return value


def analyses_csv(
    queryset: QuerySet[Analysis], *, filename: str = "", key: str = "pk"
) -> StreamingHttpResponse:
    """Return the analyses as a CSV file, streamed, with one column per label seen among them.

    The rows come in the order of `key`, a unique field (the batch line for a batch).
    """
    labels = labels_of(queryset)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    filename = filename or f"toxmon-analyses-{stamp}.csv"
    response = StreamingHttpResponse(
        csv_pages(queryset, labels=labels, key=key), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def labels_of(queryset: QuerySet[Analysis]) -> list[str]:
    """Return the labels of every model that scored the analyses, oldest model first.

    One model always gives the same labels, so one analysis of each model is enough: no pass
    over all the rows before the first byte is sent.
    """
    models = (
        queryset.order_by()
        .values("model_name")
        .annotate(first=Min("pk"))
        .order_by("first")
        .values_list("first", flat=True)
    )
    labels: dict[str, None] = {}
    for first in models:
        labels.update(
            dict.fromkeys(Analysis.objects.values_list("scores", flat=True).get(pk=first))
        )
    return list(labels)


def analyses_paged(queryset: QuerySet[Analysis], *, key: str) -> Iterator[list[Analysis]]:
    """Yield the analyses in pages ordered by key, each page one short query."""
    ordered = queryset.order_by(key)
    page = list(ordered[:PAGE_SIZE])
    while page:
        yield page
        if len(page) < PAGE_SIZE:
            return
        last = getattr(page[-1], key)
        page = list(ordered.filter(**{f"{key}__gt": last})[:PAGE_SIZE])


def csv_pages(queryset: QuerySet[Analysis], *, labels: list[str], key: str) -> Iterator[str]:
    """Yield the CSV header, then the rows of each page of analyses as one piece of text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIXED_COLUMNS + labels)
    yield buffer.getvalue()
    for page in analyses_paged(queryset, key=key):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for analysis in page:
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
                analysis.normalized,
                analysis.source,
                analysis.batch_id or "",
                analysis.batch_line or "",
            ]
            row += [analysis.scores.get(label, "") for label in labels]
            writer.writerow([spreadsheet_safe(value) for value in row])
        yield buffer.getvalue()
