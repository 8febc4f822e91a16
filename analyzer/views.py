from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from analyzer import batches, classifier, explain, services
from analyzer.admin import analyses_csv
from analyzer.forms import AnalyzeForm, BatchUploadForm
from analyzer.models import Analysis, Batch

TEMPLATE = "analyzer/analyze.html"


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
    context = {"form": form, "analysis": analysis}
    if form.cleaned_data["explain"]:
        context.update(explanation_context(analysis))
    return render(request, TEMPLATE, context)


def explanation_context(analysis: Analysis) -> dict[str, object]:
    """Return the highlighted text, or say that explaining failed (the analysis stands)."""
    try:
        [spans] = explain.explanations_build(analyses=[analysis])
    except services.PredictionFailed:
        return {"explanation_failed": True}
    return {"segments": explain.segments_from_spans(analysis.text, spans), "levels": explain.Level}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        engine = classifier.classifier_get()
    except classifier.ModelUnavailable as error:
        return JsonResponse({"status": "unavailable", "error": str(error)}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "engine": engine.engine,
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
            batch = batches.batch_create(
                upload=form.cleaned_data["file"], column=form.cleaned_data["column"]
            )
            return redirect("analyzer:batch_detail", batch_id=batch.pk)
        except ValidationError as error:
            form.add_error("file", error)
    return render(request, "analyzer/batch_upload.html", {"form": form}, status=400)


@require_GET
def batch_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = batches.batch_recover_if_stalled(batch=get_object_or_404(Batch, pk=batch_id))
    context = {"batch": batch, "progress": batches.batch_progress(batch=batch)}
    if batch.is_finished:
        context["summary"] = batches.batch_summary(batch=batch)
    return render(request, "analyzer/batch_detail.html", context)


@require_GET
def batch_status(request: HttpRequest, batch_id: str) -> JsonResponse:
    batch = batches.batch_recover_if_stalled(batch=get_object_or_404(Batch, pk=batch_id))
    progress = batches.batch_progress(batch=batch)
    return JsonResponse(
        {**progress.__dict__, "finished": batch.is_finished},
        headers={"Cache-Control": "no-store"},
    )


@require_GET
def batch_csv(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=batch_id)
    analyses = batch.analyses.order_by("batch_line")
    return analyses_csv(analyses, filename=f"toxmon-batch-{batch.pk}.csv")
