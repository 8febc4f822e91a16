from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from analyzer import batch_jobs, batch_reports, explain, explanation_links, services, tasks
from analyzer.csv_export import analyses_csv
from analyzer.engines import loader
from analyzer.engines.base import ModelUnavailable
from analyzer.forms import AnalyzeForm, BatchUploadForm
from analyzer.models import Analysis, Batch

TEMPLATE = "analyzer/analyze.html"
EXPLANATION_PAGE = "analyzer/explanation.html"
EXPLANATION_FRAGMENT = "analyzer/_explanation.html"


@require_http_methods(["GET", "HEAD", "POST"])
def analyze(request: HttpRequest) -> HttpResponse:
    form = AnalyzeForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return render(request, TEMPLATE, {"form": form})
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    try:
        analysis = services.analysis_create(text=form.cleaned_data["text"])
    except services.PredictionFailed:
        return render(request, TEMPLATE, {"form": form, "unavailable": True}, status=503)
    context: dict[str, object] = {"form": form, "analysis": analysis}
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
    # How much model work an explanation may take is decided here, per request.
    context = explanation_context(analysis, budget=explain.budget_default())
    template = EXPLANATION_FRAGMENT if request.GET.get("fragment") else EXPLANATION_PAGE
    if not context.get("explanation_busy"):
        return render(request, template, context)
    response = render(request, template, context, status=503)
    response["Retry-After"] = "5"
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
        "segments": explain.segments_from_spans(analysis.text, explanation.spans),
        "levels": explain.Level,
    }


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        engine = loader.engine_get()
    except ModelUnavailable as error:
        return JsonResponse({"status": "unavailable", "error": str(error)}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "engine": engine.runtime,
            "model": engine.model,
            "labels": list(engine.labels),
            "fallback": engine.fallback,
        }
    )


@require_http_methods(["GET", "HEAD", "POST"])
def batch_upload(request: HttpRequest) -> HttpResponse:
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    if not form.is_bound:
        return render(request, "analyzer/batch_upload.html", {"form": form})
    if form.is_valid():
        try:
            batch = batch_jobs.batch_create(
                upload=form.cleaned_data["file"], column=form.cleaned_data["column"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            tasks.batch_enqueue(batch_id=batch.pk)
            return redirect("analyzer:batch_detail", batch_id=batch.pk)
    return render(request, "analyzer/batch_upload.html", {"form": form}, status=400)


def batch_recovered(batch_id: str) -> Batch:
    """Return the batch, resumed first if its worker went quiet (the page is polled)."""
    batch = get_object_or_404(Batch, pk=batch_id)
    tasks.batches_recover(batch_ids=[batch.pk])
    batch.refresh_from_db()
    return batch


@require_GET
def batch_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = batch_recovered(batch_id)
    context: dict[str, object] = {
        "batch": batch,
        "progress": batch_reports.batch_progress(batch=batch),
    }
    if batch.is_finished:
        context["summary"] = batch_reports.batch_summary(batch=batch)
    return render(request, "analyzer/batch_detail.html", context)


@require_GET
def batch_status(request: HttpRequest, batch_id: str) -> JsonResponse:
    batch = batch_recovered(batch_id)
    progress = batch_reports.batch_progress(batch=batch)
    return JsonResponse(
        {**progress.__dict__, "finished": batch.is_finished},
        headers={"Cache-Control": "no-store"},
    )


@require_GET
def batch_csv(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=batch_id)
    analyses = batch.analyses.order_by("batch_line")
    return analyses_csv(analyses, filename=f"toxmon-batch-{batch.pk}.csv")
