from django.urls import path, re_path

from analyzer import views
from analyzer.api import perspective_errors, v1_errors

app_name = "analyzer"

urlpatterns = [
    path("", views.analyze, name="analyze"),
    path("healthz", views.healthz, name="healthz"),
    path("explanations/<str:token>", views.explanation, name="explanation"),
    path("batches/", views.batch_upload, name="batch_upload"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch_detail"),
    path("batches/<uuid:batch_id>/status", views.batch_status, name="batch_status"),
    path("batches/<uuid:batch_id>/csv", views.batch_csv, name="batch_csv"),
    # /api/v1/ itself is served by django-ninja (toxmon/urls.py); anything else under /api/ is
    # a JSON 404, never an HTML page.
    re_path(r"^api/(?P<path>.*)$", v1_errors.not_found, name="api_not_found"),
    # Likewise under /v1alpha1/, in Google's error format.
    re_path(
        r"^v1alpha1(?:/(?P<path>.*))?$",
        perspective_errors.not_found,
        name="perspective_not_found",
    ),
]
