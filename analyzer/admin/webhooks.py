"""Admin of webhooks: the endpoints with their history, and the delivery log with retries."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from analyzer import webhooks
from analyzer.admin.shared import HISTORY_LIST_TEMPLATE
from analyzer.forms import WebhookEndpointForm
from analyzer.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SimpleHistoryAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "on_review", "on_block", "is_active", "deliveries_link"]
    list_filter = ["is_active"]
    object_history_list_template = HISTORY_LIST_TEMPLATE

    @admin.display(description="deliveries")
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:analyzer_webhookdelivery_changelist") + f"?endpoint={endpoint.pk}"
        return format_html('<a href="{}">delivery log</a>', url)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # The history holds no secret, so a reverted endpoint would lose it: view only.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(  # type: ignore[no-any-return]
            request, object_id, version_id, extra_context
        )

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "endpoint",
        "action",
        "status",
        "attempts",
        "status_code",
        "short_error",
        "analysis_link",
        "created_at",
        "last_attempt_at",
    ]
    list_filter = ["status", "action", "endpoint", "created_at"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    fields = (
        "endpoint",
        "analysis_link",
        "action",
        "status",
        "attempts",
        "status_code",
        "last_error",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "body",
    )
    readonly_fields = fields

    @admin.display(description="last error")
    def short_error(self, delivery: WebhookDelivery) -> str:
        error = delivery.last_error
        return error if len(error) <= 80 else error[:79] + "…"

    @admin.display(description="analysis")
    def analysis_link(self, delivery: WebhookDelivery) -> str:
        if delivery.analysis_id is None:
            return self.get_empty_value_display()
        url = reverse("admin:analyzer_analysis_change", args=[delivery.analysis_id])
        return format_html('<a href="{}">{}</a>', url, delivery.analysis_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("endpoint")

    @admin.action(description="Send selected failed deliveries again", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhooks.deliveries_retry(deliveries=queryset)
        self.message_user(request, f"Queued {count} failed deliveries again.", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The log is not edited; the permission only allows sending failed deliveries again.
        return obj is None and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
