"""Admin of label policies: change a label's thresholds as a new version, with who and why;
the versions, read only."""

import contextlib
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from analyzer import policies
from analyzer.admin.shared import HISTORY_LIST_TEMPLATE, RecordAdmin, user_of
from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.forms import LabelPolicyForm
from analyzer.models import LabelPolicy, PolicyVersion


@admin.register(LabelPolicy)
class LabelPolicyAdmin(SimpleHistoryAdmin):
    form = LabelPolicyForm
    list_display = ["label", "review_percent", "block_percent", "updated_at"]
    readonly_fields = ["label", "updated_at"]
    fields = ["label", "review_threshold", "block_threshold", "reason", "updated_at"]
    object_history_list_template = HISTORY_LIST_TEMPLATE

    @admin.display(description="review at", ordering="review_threshold")
    def review_percent(self, policy: LabelPolicy) -> str:
        return f"{policy.review_threshold:.1%}"

    @admin.display(description="block at", ordering="block_threshold")
    def block_percent(self, policy: LabelPolicy) -> str:
        return f"{policy.block_threshold:.1%}"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Every label of the served engine is listed, even before its first analysis.
        with contextlib.suppress(ModelUnavailable):
            policies.policy_current(labels=loader.engine_get().labels)
        return super().changelist_view(request, extra_context)  # type: ignore[no-any-return]

    def save_model(self, request: HttpRequest, obj: LabelPolicy, form: Any, change: bool) -> None:
        version = policies.policy_change(
            label=obj.label,
            review_threshold=obj.review_threshold,
            block_threshold=obj.block_threshold,
            user=user_of(request),
            reason=form.cleaned_data.get("reason", ""),
        )
        obj.refresh_from_db()
        self.message_user(request, f"New analyses are judged under {version}.")

    # A label's policy exists because the engine has the label.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Versions are the record of what the policy was: made by changes, never edited.
@admin.register(PolicyVersion)
class PolicyVersionAdmin(RecordAdmin):
    list_display = ["__str__", "created_at", "created_by", "reason"]
    fields = ("created_at", "created_by", "reason", "thresholds_table", "analyses_link")
    readonly_fields = fields

    @admin.display(description="thresholds")
    def thresholds_table(self, version: PolicyVersion) -> str:
        return format_html_join(
            "\n",
            "<div>{}: review at {}, block at {}</div>",
            (
                (label, f"{bars['review']:.1%}", f"{bars['block']:.1%}")
                for label, bars in version.thresholds.items()
            ),
        )

    @admin.display(description="analyses")
    def analyses_link(self, version: PolicyVersion) -> str:
        url = reverse("admin:analyzer_analysis_changelist") + f"?policy_version={version.pk}"
        return format_html('<a href="{}">judged under this version</a>', url)
