from django.contrib import admin
from django.urls import include, path

from analyzer.metrics import metrics_export

urlpatterns = [
    path("admin/", admin.site.urls),
    # Restricted to TOXMON_METRICS_ALLOWED_IPS (docs/monitoring.md).
    path("metrics", metrics_export, name="metrics"),
    path("", include("analyzer.urls")),
]
