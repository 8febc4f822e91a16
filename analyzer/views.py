from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from analyzer import classifier, services
from analyzer.forms import AnalyzeForm

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
    return render(request, TEMPLATE, {"form": form, "analysis": analysis})


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
