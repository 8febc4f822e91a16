import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from analyzer import (
    batch_jobs,
    batch_reports,
    explain,
    explanation_links,
    highlights,
    language_checks,
    rate_limits,
    services,
    tasks,
    workload,
)
from analyzer.csv_export import analyses_csv
from analyzer.db_retry import RETRY_AFTER_SECONDS, DatabaseBusy
from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.forms import AnalyzeForm, BatchUploadForm
from analyzer.models import Analysis, Batch

logger = logging.getLogger(__name__)

TEMPLATE = "analyzer/analyze.html"
EXPLANATION_PAGE = "analyzer/explanation.html"
EXPLANATION_FRAGMENT = "analyzer/_explanation.html"
BATCH_TEMPLATE = "analyzer/batch_upload.html"
# Batches listed on the upload page under "Your batches".
OWN_BATCHES_SHOWN = 20


def explain_budget(request: HttpRequest) -> explain.Budget:
    """Return how much model work an explanation may take for this visitor: less anonymously."""
    if request.user.is_authenticated:
        return explain.budget_default()
    return explain.budget_default(spans=settings.TOXMON_EXPLAIN_MAX_SPANS_ANONYMOUS)


def page_retry_later(
    request: HttpRequest, template: str, context: dict[str, object], *, status: int
) -> HttpResponse:
    """Return the page with its input kept, saying when to retry (429 or 503, Retry-After)."""
    response = render(request, template, context, status=status)
    response["Retry-After"] = str(context["retry_after"])
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def analyze(request: HttpRequest) -> HttpResponse:
    form = AnalyzeForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return render(request, TEMPLATE, {"form": form})
    retry_after = rate_limits.client_post_count(
        request=request, group="analyze", rate=settings.TOXMON_FORM_RATE_LIMIT
    )
    if retry_after is not None:
        return page_retry_later(
            request, TEMPLATE, {"form": form, "retry_after": retry_after}, status=429
        )
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    text = form.cleaned_data["text"]
    context: dict[str, object] = {"form": form}
    try:
        # The explanation is fetched by its own request, which admits its own work.
        with workload.work_admitted(windows=workload.work_estimate(texts=[text])):
            context["analysis"] = analysis = services.analysis_create(text=text)
    except services.PredictionFailed:
        return render(request, TEMPLATE, {"form": form, "unavailable": True}, status=503)
    except DatabaseBusy:
        busy = {"form": form, "database_busy": True, "retry_after": RETRY_AFTER_SECONDS}
        return page_retry_later(request, TEMPLATE, busy, status=503)
    except (workload.WorkerBusy, workload.TooMuchWork):
        busy = {"form": form, "busy": True, "retry_after": workload.BUSY_RETRY_SECONDS}
        return page_retry_later(request, TEMPLATE, busy, status=503)
    context["language_check"] = language_checks.language_check(analysis=analysis)
    if form.cleaned_data["explain"]:
        # The verdict never waits for the explanation: the page fetches it from this link.
        token = explanation_links.link_token(analysis_id=analysis.pk)
        context["explanation_url"] = reverse("analyzer:explanation", args=[token])
    return render(request, TEMPLATE, context)


@require_GET
def explanation(request: HttpRequest, token: str) -> HttpResponse:
    """Show the words that raised an analysis's top label: a fragment for the script, or a page."""
    analysis = explanation_links.analysis_from_token(token=token)
    if analysis is None:
        raise Http404("This explanation link is not valid or has expired.")
    # How much model work an explanation may take is decided here, per visitor.
    budget = explain_budget(request)
    template = EXPLANATION_FRAGMENT if request.GET.get("fragment") else EXPLANATION_PAGE
    try:
        with workload.work_admitted(
            windows=workload.work_estimate(texts=[analysis.text], explain_spans=budget.spans)
        ):
            context = explanation_context(analysis, budget=budget)
    except (workload.WorkerBusy, workload.TooMuchWork):
        context = {"analysis": analysis, "explanation_busy": True}
    if not context.get("explanation_busy"):
        return render(request, template, context)
    response = render(request, template, context, status=503)
    response["Retry-After"] = str(workload.BUSY_RETRY_SECONDS)
    return response


def explanation_context(analysis: Analysis, *, budget: explain.Budget) -> dict[str, object]:
    """Return the highlighted text, or say why there is none (the analysis stands)."""
    context: dict[str, object] = {"analysis": analysis}
    try:
        [explanation] = explain.explanations_build(analyses=[analysis], budget=budget)
    except services.ModelBusy:
        return {**context, "explanation_busy": True}
    except services.PredictionFailed:
        return {**context, "explanation_failed": True}
    return {
        **context,
        "explanation": explanation,
        "segments": highlights.segments_from_spans(analysis.text, explanation.spans),
        "levels": highlights.Level,
    }


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        engine = loader.engine_get()
    except ModelUnavailable:
        # The reason is in the log (the loader writes it); this answer is public.
        return JsonResponse(
            {"status": "unavailable", "error": "The model is not loaded."}, status=503
        )
    return JsonResponse(
        {
            "status": "ok",
            "engine": engine.runtime,
            "model": engine.model,
            "labels": list(engine.labels),
            "fallback": engine.fallback,
        }
    )


def batch_upload_allowed(request: HttpRequest) -> bool:
    return settings.TOXMON_BATCH_PUBLIC or request.user.is_authenticated


def batch_upload_page(
    request: HttpRequest, form: BatchUploadForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    """Render the upload page with the visitor's own batches."""
    own = Batch.objects.none()
    if request.user.is_authenticated:
        own = Batch.objects.filter(owner=request.user)[:OWN_BATCHES_SHOWN]
    context = {"form": form, "own_batches": own, **extra}
    if extra.get("retry_after") is not None:
        return page_retry_later(request, BATCH_TEMPLATE, context, status=status)
    return render(request, BATCH_TEMPLATE, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def batch_upload(request: HttpRequest) -> HttpResponse:
    if not batch_upload_allowed(request):
        return redirect_to_login(request.get_full_path())
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    if not form.is_bound:
        return batch_upload_page(request, form)
    retry_after = rate_limits.client_post_count(
        request=request, group="batch_upload", rate=settings.TOXMON_BATCH_RATE_LIMIT
    )
    if retry_after is not None:
        return batch_upload_page(request, form, status=429, retry_after=retry_after)
    if not form.is_valid():
        return batch_upload_page(request, form, status=400)
    owner = request.user if isinstance(request.user, User) else None
    try:
        batch = tasks.batch_submit(
            upload=form.cleaned_data["file"], column=form.cleaned_data["column"], owner=owner
        )
    except batch_jobs.TooManyBatches as error:
        form.add_error(None, error.message)
        if error.everyone:
            return batch_upload_page(request, form, status=503, retry_after=error.retry_after)
        return batch_upload_page(request, form, status=429)
    except ValidationError as error:
        form.add_error("file", error)
        return batch_upload_page(request, form, status=400)
    return redirect("analyzer:batch_detail", batch_id=batch.pk)


def batch_visible(request: HttpRequest, batch_id: str) -> Batch:
    """Return the batch if this visitor may see it: its owner, staff, or anyone for no owner.

    A batch uploaded anonymously (TOXMON_BATCH_PUBLIC=1) is found only by its random id.
    """
    batch: Batch = get_object_or_404(Batch.objects.defer("items"), pk=batch_id)
    user = request.user
    if batch.owner_id is not None and not (user.is_staff or batch.owner_id == user.pk):
        raise Http404("No such batch.")
    return batch


@require_GET
def batch_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = batch_visible(request, batch_id)
    context: dict[str, object] = {
        "batch": batch,
        "progress": batch_reports.batch_progress(batch=batch),
    }
    if batch.is_finished:
        context["summary"] = batch_reports.batch_summary(batch=batch)
    return render(request, "analyzer/batch_detail.html", context)


@require_GET
def batch_status(request: HttpRequest, batch_id: str) -> JsonResponse:
    batch = batch_visible(request, batch_id)
    progress = batch_reports.batch_progress(batch=batch)
    return JsonResponse(
        {**progress.__dict__, "finished": batch.is_finished},
        headers={"Cache-Control": "no-store"},
    )


@require_GET
def batch_csv(request: HttpRequest, batch_id: str) -> StreamingHttpResponse:
    batch = batch_visible(request, batch_id)
    return analyses_csv(
        batch.analyses.all(), filename=f"toxmon-batch-{batch.pk}.csv", key="batch_line"
    )
