from django.urls import resolve, reverse


def test_the_form_is_the_home_page():
    assert reverse("analyzer:analyze") == "/"
    assert resolve("/").view_name == "analyzer:analyze"


def test_healthz_url():
    assert reverse("analyzer:healthz") == "/healthz"
    assert resolve("/healthz").view_name == "analyzer:healthz"


def test_admin_url():
    assert reverse("admin:analyzer_analysis_changelist") == "/admin/analyzer/analysis/"


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("favicon.svg")
