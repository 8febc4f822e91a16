"""Moderation in admin: the review queue and decisions on analyses, the calibration report,
label policies with their history, reviews, webhook endpoints and their delivery log.

analyzer/admin.py builds the analyses' admin on ModerationAnalysisAdmin and imports this module,
which registers the rest.
"""

import contextlib
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from analyzer import calibration_reports, policies, reviews, webhooks
from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.forms import (
    CalibrationForm,
    LabelPolicyForm,
    ReviewForm,
    SuggestionApplyForm,
    WebhookEndpointForm,
)
from analyzer.models import (
    Action,
    Analysis,
    AnalysisQuerySet,
    LabelPolicy,
    PolicyVersion,
    Review,
    ReviewDecision,
    WebhookDelivery,
    WebhookEndpoint,
)

REVIEW_PERMISSION = "analyzer.add_review"
POLICY_PERMISSION = "analyzer.change_labelpolicy"
# The query string of admin's review queue: the filter below, oldest first.
QUEUE_PARAMETER = "review"
QUEUE_VALUE = "needs"
HISTORY_LIST_TEMPLATE = "admin/analyzer/object_history_list.html"


def user_of(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def queue_url() -> str:
    return reverse("admin:analyzer_analysis_changelist") + f"?{QUEUE_PARAMETER}={QUEUE_VALUE}"


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = QUEUE_PARAMETER

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (QUEUE_VALUE, "Needs review"),
            ("unreviewed", "Not reviewed"),
            ("reviewed", "Reviewed"),
            (ReviewDecision.TOXIC, "Reviewed: toxic"),
            (ReviewDecision.NOT_TOXIC, "Reviewed: not toxic"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        if value == QUEUE_VALUE:
            return queryset.needs_review()  # type: ignore[attr-defined, no-any-return]
        if value == "unreviewed":
            return queryset.filter(latest_decision__isnull=True)
        if value == "reviewed":
            return queryset.filter(latest_decision__isnull=False)
        if value in ReviewDecision.values:
            return queryset.filter(latest_decision=value)
        return None


class ModerationAnalysisAdmin(admin.ModelAdmin):
    """Review decisions and the calibration report, on top of the analyses' admin."""

    change_form_template = "admin/analyzer/analysis/change_form.html"
    change_list_template = "admin/analyzer/analysis/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Analysis]:
        queryset = cast(AnalysisQuerySet, super().get_queryset(request))
        return queryset.select_related("policy_version").with_latest_decision()

    def get_ordering(self, request: HttpRequest) -> list[str] | tuple[Any, ...]:
        # The review queue is worked oldest first, so nothing waits for ever.
        if request.GET.get(QUEUE_PARAMETER) == QUEUE_VALUE:
            return ["created_at", "id"]
        return super().get_ordering(request)

    @admin.display(description="review", ordering="latest_decision")
    def review_state(self, analysis: Analysis) -> str:
        decision = getattr(analysis, "latest_decision", None)
        if decision is None:
            if analysis.action == Action.REVIEW:
                return "Needs review"
            return str(self.get_empty_value_display())
        return str(ReviewDecision(decision).label)

    @admin.display(description="labels that made the action")
    def action_labels_display(self, analysis: Analysis) -> str:
        return ", ".join(analysis.action_labels) or str(self.get_empty_value_display())

    @admin.display(description="policy version")
    def policy_link(self, analysis: Analysis) -> str:
        if analysis.policy_version_id is None:
            return "Before label policies"
        url = reverse("admin:analyzer_policyversion_change", args=[analysis.policy_version_id])
        return format_html('<a href="{}">{}</a>', url, analysis.policy_version)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    # Decisions on a selection, from the list.
    @admin.action(
        description="Decide: toxic (the flagged labels were right)", permissions=["review"]
    )
    def review_toxic(self, request: HttpRequest, queryset: QuerySet[Analysis]) -> None:
        self.selection_decide(request, queryset, decision=ReviewDecision.TOXIC)

    @admin.action(description="Decide: not toxic", permissions=["review"])
    def review_not_toxic(self, request: HttpRequest, queryset: QuerySet[Analysis]) -> None:
        self.selection_decide(request, queryset, decision=ReviewDecision.NOT_TOXIC)

    @admin.action(description="Decide with labels and a note…", permissions=["review"])
    def review_with_note(
        self, request: HttpRequest, queryset: QuerySet[Analysis]
    ) -> HttpResponse | None:
        analyses = list(queryset)
        labels = list(dict.fromkeys(label for a in analyses for label in a.scores))
        form = ReviewForm(request.POST if "apply" in request.POST else None, labels=labels)
        if form.is_bound and form.is_valid():
            self.selection_decide(
                request,
                queryset,
                decision=form.cleaned_data["decision"],
                labels=form.cleaned_data["labels"],
                note=form.cleaned_data["note"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Decide on {len(analyses)} analyses",
            "opts": self.model._meta,
            "analyses": analyses,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/analyzer/analysis/review_selection.html", context)

    def selection_decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[Analysis],
        *,
        decision: str,
        labels: list[str] | None = None,
        note: str = "",
    ) -> None:
        recorded = reviews.reviews_record(
            analyses=list(queryset),
            decision=decision,
            labels=labels or [],
            note=note,
            reviewer=user_of(request),
        )
        self.message_user(
            request,
            f"Recorded “{ReviewDecision(decision).label}” on {len(recorded)} analyses.",
            messages.SUCCESS,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("calibration/", view(self.calibration_view), name="analyzer_calibration"),
            path(
                "calibration/apply/",
                view(self.suggestion_apply_view),
                name="analyzer_calibration_apply",
            ),
            path("<int:analysis_id>/review/", view(self.review_view), name="analyzer_review"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        analysis = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if analysis is not None:
            context["reviews"] = analysis.reviews.select_related("reviewer")
            if self.has_review_permission(request):
                context["review_form"] = self.review_form(analysis)
        return super().change_view(request, object_id, form_url, context)

    def review_form(self, analysis: Analysis, data: Any = None) -> ReviewForm:
        """Return the decision form of one analysis, with its flagged labels ticked."""
        return ReviewForm(
            data,
            labels=list(analysis.scores),
            initial={"labels": analysis.action_labels or [analysis.top_label]},
        )

    def review_view(self, request: HttpRequest, analysis_id: int) -> HttpResponse:
        """Record a decision from an analysis's page; go on to the next one in the queue."""
        if request.method != "POST":
            return redirect("admin:analyzer_analysis_change", analysis_id)
        if not self.has_review_permission(request):
            raise PermissionDenied
        analysis = get_object_or_404(self.get_queryset(request), pk=analysis_id)
        form = self.review_form(analysis, request.POST)
        if not form.is_valid():
            messages.error(request, "Choose toxic or not toxic to record a decision.")
            return redirect("admin:analyzer_analysis_change", analysis_id)
        reviews.reviews_record(
            analyses=[analysis],
            decision=form.cleaned_data["decision"],
            labels=form.cleaned_data["labels"],
            note=form.cleaned_data["note"],
            reviewer=user_of(request),
        )
        following = Analysis.objects.needs_review().first()
        if following is None:
            self.message_user(request, "Decision recorded. The review queue is empty.")
            return HttpResponseRedirect(queue_url())
        self.message_user(request, "Decision recorded. Next in the review queue:")
        return redirect("admin:analyzer_analysis_change", following.pk)

    def calibration_view(self, request: HttpRequest) -> HttpResponse:
        """Show how each label's thresholds fare on reviewed analyses, with a suggestion."""
        if not request.user.has_perm("analyzer.view_review"):
            raise PermissionDenied
        form = CalibrationForm(request.GET or None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Calibration report",
            "opts": self.model._meta,
            "form": form,
            "can_apply": request.user.has_perm(POLICY_PERMISSION),
            "queue_url": queue_url(),
        }
        try:
            engine = loader.engine_get()
        except ModelUnavailable as error:
            context["unavailable"] = str(error)
        else:
            context["report"] = calibration_reports.calibration_report(
                model=engine.model,
                labels=engine.labels,
                policy=policies.policy_current(labels=engine.labels),
                target_precision=form.target(),
            )
        return TemplateResponse(request, "admin/analyzer/analysis/calibration.html", context)

    def suggestion_apply_view(self, request: HttpRequest) -> HttpResponse:
        """Make a suggested threshold the label's review or block threshold: a new version."""
        return suggestion_apply(request)


@require_POST
def suggestion_apply(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(POLICY_PERMISSION):
        raise PermissionDenied
    form = SuggestionApplyForm(request.POST)
    back = reverse("admin:analyzer_calibration")
    if not form.is_valid():
        messages.error(request, "That suggestion could not be applied; reload the report.")
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    if data["precision"]:
        back += f"?precision={data['precision']:g}"
    policy = LabelPolicy.objects.filter(label=data["label"]).first()
    if policy is None:
        messages.error(request, f"No policy for the label {data['label']}.")
        return HttpResponseRedirect(back)
    review, block = policy.review_threshold, policy.block_threshold
    if data["kind"] == "review":
        review = data["threshold"]
    else:
        block = data["threshold"]
    try:
        version = policies.policy_change(
            label=policy.label,
            review_threshold=review,
            block_threshold=block,
            user=user_of(request),
            reason=f"Calibration suggestion applied to the {data['kind']} threshold",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(back)
    messages.success(
        request,
        f"The {data['kind']} threshold of {policy.label} is now {data['threshold']:.1%} "
        f"(policy version {version.pk}).",
    )
    return HttpResponseRedirect(back)


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


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
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

    # Versions are the record of what the policy was: made by changes, never edited.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["created_at", "decision", "labels_display", "reviewer", "analysis_link", "note"]
    list_filter = ["decision", "reviewer", "created_at"]
    search_fields = ["note", "analysis__text"]
    date_hierarchy = "created_at"
    fields = ("analysis_link", "decision", "labels_display", "note", "reviewer", "created_at")
    readonly_fields = fields

    @admin.display(description="labels right")
    def labels_display(self, review: Review) -> str:
        return ", ".join(review.labels) or str(self.get_empty_value_display())

    @admin.display(description="analysis")
    def analysis_link(self, review: Review) -> str:
        url = reverse("admin:analyzer_analysis_change", args=[review.analysis_id])
        return format_html('<a href="{}">{}</a>', url, review.analysis_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return super().get_queryset(request).select_related("reviewer")

    # The audit trail: decisions are made on the analyses and never edited or removed here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
