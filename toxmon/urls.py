from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic.base import RedirectView

from analyzer.api import perspective, perspective_errors
from analyzer.api import v1 as api_v1
from analyzer.metrics_view import metrics_export

# Resolved on first request: the static manifest does not exist yet when `migrate` imports this.
favicon_url = lazy(static, str)("favicon.svg")

urlpatterns = [
    path("admin/", admin.site.urls),
    # Batch uploads need a login (TOXMON_BATCH_PUBLIC=1 opens them); django-axes throttles it.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Restricted to TOXMON_METRICS_ALLOWED_IPS (docs/monitoring.md).
    path("metrics", metrics_export, name="metrics"),
    # Browsers ask for /favicon.ico on pages that name no icon, such as the admin's.
    path("favicon.ico", RedirectView.as_view(url=favicon_url, permanent=True)),
    # The JSON API (docs/api.md), its operations named api_v1:<name>.
    path("api/v1/", api_v1.api.urls),
    # Perspective API's routes (docs/perspective.md), named perspective:<name>. ninja's own view
    # at the root answers an HTML 404; Perspective clients get Google's JSON instead.
    path("v1alpha1/", perspective_errors.not_found),
    path("v1alpha1/", perspective.api.urls),
    path("", include("analyzer.urls")),
]
