"""Admin's calibration report: how each label's thresholds fare on reviewed analyses, and a
suggested threshold applied as a new policy version.

analyzer/admin/analyses.py builds the analyses' admin on CalibrationAnalysisAdmin, which adds
the report's URLs under the analyses'.
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from analyzer import calibration_reports, policies
from analyzer.admin.reviews import queue_url
from analyzer.admin.shared import user_of
from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.forms import CalibrationForm, SuggestionApplyForm
from analyzer.models import LabelPolicy

POLICY_PERMISSION = "analyzer.change_labelpolicy"


class CalibrationAnalysisAdmin(admin.ModelAdmin):
    """The calibration report, on top of the analyses' admin."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("calibration/", view(self.calibration_view), name="analyzer_calibration"),
            path(
                "calibration/apply/",
                view(self.suggestion_apply_view),
                name="analyzer_calibration_apply",
            ),
            *super().get_urls(),
        ]

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
