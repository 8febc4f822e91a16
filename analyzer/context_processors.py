from django.http import HttpRequest

from analyzer import classifier


def engine(request: HttpRequest) -> dict[str, object]:
    """Name the engine on every page, so a fallback cannot go unnoticed."""
    try:
        return {"engine": classifier.classifier_get()}
    except classifier.ModelUnavailable:
        return {"engine": None}
