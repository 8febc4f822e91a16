"""Admin's review queue: the filter, decisions on analyses from the list or from an analysis's
page, and the trail of reviews.

analyzer/admin/analyses.py builds the analyses' admin on ReviewAnalysisAdmin.
"""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from analyzer import reviews
from analyzer.admin.shared import RecordAdmin, user_of
from analyzer.forms import ReviewForm
from analyzer.models import Action, Analysis, AnalysisQuerySet, Review, ReviewDecision

REVIEW_PERMISSION = "analyzer.add_review"
# The query string of admin's review queue: the filter below, oldest first.
QUEUE_PARAMETER = "review"
QUEUE_VALUE = "needs"


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


class ReviewAnalysisAdmin(admin.ModelAdmin):
    """Review decisions, on top of the analyses' admin."""

    change_form_template = "admin/analyzer/analysis/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Analysis]:
        queryset = cast(AnalysisQuerySet, super().get_queryset(request))
        return queryset.with_latest_decision()

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


# The audit trail: decisions are made on the analyses and never edited or removed here.
@admin.register(Review)
class ReviewAdmin(RecordAdmin):
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
