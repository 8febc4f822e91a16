"""Admin of batch files: their progress, read only, linked to their analyses."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from analyzer.models import Batch


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["filename", "status", "done", "total", "attempts", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["filename"]
    date_hierarchy = "created_at"
    fields = (
        "id",
        "filename",
        "column",
        "status",
        "error",
        "done",
        "total",
        "analyses_link",
        "attempts",
        "task_id",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="analyses")
    def analyses_link(self, batch: Batch) -> str:
        url = reverse("admin:analyzer_analysis_changelist") + f"?batch__id__exact={batch.pk}"
        page = reverse("analyzer:batch_detail", args=[batch.pk])
        return format_html(
            '<a href="{}">{} stored analyses</a> · <a href="{}">progress and summary</a>',
            url,
            batch.analyses.count(),
            page,
        )

    # Batches are made by uploading a file on the batch page.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Batch | None = None) -> bool:
        return False
