from django.urls import path, re_path

from analyzer import views
from analyzer.api import views as api

app_name = "analyzer"

urlpatterns = [
    path("", views.analyze, name="analyze"),
    path("healthz", views.healthz, name="healthz"),
    path("batches/", views.batch_upload, name="batch_upload"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch_detail"),
    path("batches/<uuid:batch_id>/status", views.batch_status, name="batch_status"),
    path("batches/<uuid:batch_id>/csv", views.batch_csv, name="batch_csv"),
    path("api/v1/analyze", api.analyze, name="api_analyze"),
    path("api/v1/openapi.json", api.openapi_json, name="api_openapi"),
    # Anything else under /api/ is a JSON 404, never an HTML page.
    re_path(r"^api/(?P<path>.*)$", api.not_found, name="api_not_found"),
]
