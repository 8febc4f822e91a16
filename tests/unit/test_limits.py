"""Request sizes, per-client rate limits, work budgets, login throttling and TLS exemptions."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from analyzer import workload
from analyzer.cache import DatabaseCache
from analyzer.csv_export import spreadsheet_safe
from analyzer.models import Analysis, Batch
from analyzer.networks import client_address, networks_parse
from analyzer.tokens import token_create

pytestmark = pytest.mark.django_db

ANALYZE_URL = reverse("analyzer:analyze")
API_URL = reverse("api_v1:analyze")
LONG_TEXT = " ".join(f"word{n} is here" for n in range(600))  # ~9,500 characters


def announced(client, url, length, **extra):
    """Post with a Content-Length that announces length bytes, sending (almost) none of them."""
    return client.post(
        url, data=b"x", content_type="application/octet-stream", CONTENT_LENGTH=str(length), **extra
    )


# --- Request size ----------------------------------------------------------------------------


def test_an_oversized_form_post_is_413_before_the_view_runs(client, fake_engine, settings):
    response = announced(client, ANALYZE_URL, settings.TOXMON_FORM_MAX_BYTES + 1)
    assert response.status_code == 413
    assert "too much to send" in response.content.decode()
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_each_route_has_its_own_body_limit(client, settings):
    settings.TOXMON_FORM_MAX_BYTES = 1000
    settings.TOXMON_ADMIN_MAX_BYTES = 2000
    settings.TOXMON_API_MAX_BYTES = 3000
    settings.TOXMON_BATCH_MAX_BYTES = 4000
    cases = {
        ANALYZE_URL: 1000,
        "/admin/login/": 2000,
        API_URL: 3000,
        reverse("analyzer:batch_upload"): 4000 + 64 * 1024,
    }
    for url, limit in cases.items():
        assert announced(client, url, limit + 1).status_code == 413, url
        assert announced(client, url, limit).status_code != 413, url


def test_an_oversized_api_body_is_a_problem_details_413(client, settings):
    response = announced(client, API_URL, settings.TOXMON_API_MAX_BYTES + 1)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/api/v1/problems/body-too-large"


def test_the_default_form_limit_fits_the_longest_text_of_the_widest_characters(
    client, fake_engine, settings
):
    text = "😀" * settings.TOXMON_MAX_CHARS  # 12 bytes each, percent-encoded
    response = client.post(ANALYZE_URL, {"text": text})
    assert response.status_code == 200


# --- Client addresses and rate limits --------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a proxy: its header is ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client wrote 6.6.6.6
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # two trusted hops
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_client_is_who_the_trusted_proxies_say_and_no_one_else(remote, forwarded, expected):
    trusted = networks_parse(["10.0.0.0/24"], setting="TOXMON_TRUSTED_PROXIES")
    assert client_address(remote_addr=remote, forwarded_for=forwarded, trusted=trusted) == expected


def test_the_form_limit_is_429_with_retry_after_and_the_text_kept(client, fake_engine, settings):
    settings.TOXMON_FORM_RATE_LIMIT = "2/minute"
    for _ in range(2):
        assert client.post(ANALYZE_URL, {"text": "hello"}).status_code == 200
    response = client.post(ANALYZE_URL, {"text": "keep me please"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "keep me please</textarea>" in html and "Too many analyses" in html
    assert len(fake_engine.calls) == 2, "a refused post is not scored"
    other = client.post(ANALYZE_URL, {"text": "hello"}, REMOTE_ADDR="198.51.100.4")
    assert other.status_code == 200, "the limit is per client"


@pytest.fixture
def database_cache() -> DatabaseCache:
    """toxmon's database cache with its table, as `createcachetable` makes it."""
    cache_settings = {"BACKEND": "analyzer.cache.DatabaseCache", "LOCATION": "toxmon_cache"}
    with override_settings(CACHES={"default": cache_settings}):
        call_command("createcachetable")
    return DatabaseCache("toxmon_cache", {})


def test_the_database_cache_counts_and_keeps_the_expiry(database_cache):
    cache = database_cache
    assert cache.add("hits", 1, 60)
    assert [cache.incr("hits") for _ in range(3)] == [2, 3, 4]
    assert cache.get("hits") == 4
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set("stale", 1, timeout=-1)
    with pytest.raises(ValueError):
        cache.incr("stale")


def test_the_rate_limits_count_in_a_shared_cache_by_default():
    from toxmon import settings as production

    assert production.CACHES["default"]["BACKEND"] == "analyzer.cache.DatabaseCache"


# --- Work budgets ----------------------------------------------------------------------------


def test_a_long_text_is_estimated_in_several_windows_and_a_short_one_in_a_fraction():
    assert workload.windows_estimate(LONG_TEXT) >= 5
    assert workload.work_estimate(texts=["you idiot"]) < 0.05
    explained = workload.work_estimate(texts=[LONG_TEXT], explain_spans=64)
    assert 40 < explained < 80, "about the explanation budget in windows"
    assert workload.work_estimate(texts=[LONG_TEXT], explain_spans=16) < explained / 2


def test_a_worker_refuses_work_past_its_budget_and_frees_it_after(settings):
    settings.TOXMON_WORKER_MAX_WINDOWS = 10
    with workload.work_admitted(windows=8):
        with pytest.raises(workload.WorkerBusy), workload.work_admitted(windows=3):
            pass
        with workload.work_admitted(windows=2):
            pass
    with workload.work_admitted(windows=10):
        pass
    with pytest.raises(workload.TooMuchWork):
        workload.work_admitted(windows=11).__enter__()


def test_a_busy_worker_answers_the_form_503_with_retry_after_and_keeps_the_text(
    client, fake_engine, settings
):
    settings.TOXMON_WORKER_MAX_WINDOWS = 10
    with workload.work_admitted(windows=10):
        response = client.post(ANALYZE_URL, {"text": "keep this"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(workload.BUSY_RETRY_SECONDS)
    assert "keep this</textarea>" in response.content.decode()
    assert fake_engine.calls == [] and Analysis.objects.count() == 0


def test_anonymous_visitors_get_a_smaller_explanation_than_logged_in_users(
    member_client, fake_engine, monkeypatch
):
    from analyzer import explain

    budgets = []
    build = explain.explanations_build

    def noting_the_budget(*, analyses, budget):
        budgets.append(budget)
        return build(analyses=analyses, budget=budget)

    monkeypatch.setattr(explain, "explanations_build", noting_the_budget)
    text = "You are a complete idiot. " * 20
    for client in (Client(), member_client):
        page = client.post(ANALYZE_URL, {"text": text, "explain": "on"}).content.decode()
        link = re.search(r'href="(/explanations/[^"]+)"', page).group(1)
        assert client.get(link).status_code == 200
    anonymous, member = budgets
    assert (anonymous.spans, member.spans) == (16, 64)


@pytest.fixture
def key():
    _, key = token_create(name="limits")
    return key


def api_post(client, key, body):
    return client.post(
        API_URL,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_the_api_limit_counts_texts_not_requests(client, fake_engine, key, settings):
    settings.TOXMON_API_RATE_LIMIT = "5/minute"
    assert api_post(client, key, {"texts": ["a", "b", "c"]}).status_code == 200
    assert api_post(client, key, {"texts": ["d", "e"]}).status_code == 200
    response = api_post(client, key, {"texts": ["f"]})
    assert response.status_code == 429 and "Retry-After" in response
    assert "5/minute texts" in response.json()["detail"]


def test_an_api_request_past_a_busy_worker_is_503_busy_and_stores_nothing(
    client, fake_engine, key, settings
):
    settings.TOXMON_WORKER_MAX_WINDOWS = 10
    with workload.work_admitted(windows=10):
        response = api_post(client, key, {"texts": ["hello"]})
    assert response.status_code == 503
    assert response.json()["type"] == "/api/v1/problems/busy"
    assert response["Retry-After"] == str(workload.BUSY_RETRY_SECONDS)
    assert Analysis.objects.count() == 0


def test_an_api_request_that_is_too_much_work_alone_is_413_and_not_scored(client, fake_engine, key):
    response = api_post(client, key, {"texts": [LONG_TEXT] * 32, "explain": True})
    assert response.status_code == 413
    assert response.json()["type"] == "/api/v1/problems/too-much-work"
    assert fake_engine.calls == []


# --- Batches belong to users -----------------------------------------------------------------


def upload(client, name="a.txt", **extra):
    file = SimpleUploadedFile(name, b"hello\nyou idiot\n")
    return client.post(reverse("analyzer:batch_upload"), {"file": file}, **extra)


def test_anonymous_batch_upload_is_sent_to_log_in(client):
    url = reverse("analyzer:batch_upload")
    for response in (client.get(url), upload(client)):
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"
    assert Batch.objects.count() == 0


def test_batch_public_lets_anonymous_visitors_upload_batches_without_owner(client, settings):
    settings.TOXMON_BATCH_PUBLIC = True
    response = upload(client)
    assert response.status_code == 302
    batch = Batch.objects.get()
    assert batch.owner is None
    assert client.get(reverse("analyzer:batch_detail", args=[batch.pk])).status_code == 200


def test_a_user_over_the_unfinished_batch_cap_is_told_to_wait(member_client, settings):
    settings.TOXMON_BATCH_MAX_UNFINISHED_PER_USER = 1
    assert upload(member_client).status_code == 302
    response = upload(member_client, "b.txt")
    assert response.status_code == 429
    assert "You have 1 batches queued or running" in response.content.decode()
    assert Batch.objects.count() == 1


def test_the_service_wide_batch_cap_is_503_with_retry_after(member_client, settings):
    settings.TOXMON_BATCH_MAX_UNFINISHED = 1
    Batch.objects.create(filename="x.txt", items=[[1, "x"]], total=1)
    response = upload(member_client)
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "as many batches waiting as it takes" in response.content.decode()


def test_a_batch_is_seen_by_its_owner_and_staff_only(member, member_client, admin_client):
    upload(member_client)
    batch = Batch.objects.get()
    assert batch.owner == member
    for name in ("batch_detail", "batch_status", "batch_csv"):
        url = reverse(f"analyzer:{name}", args=[batch.pk])
        assert member_client.get(url).status_code == 200, name
        assert admin_client.get(url).status_code == 200, name
        assert Client().get(url).status_code == 404, name
    listing = member_client.get(reverse("analyzer:batch_upload")).content.decode()
    assert "Your batches" in listing and "a.txt" in listing


def test_batch_uploads_are_rate_limited_per_client(member_client, settings):
    settings.TOXMON_BATCH_RATE_LIMIT = "1/hour"
    settings.TOXMON_BATCH_MAX_UNFINISHED_PER_USER = 5
    assert upload(member_client).status_code == 302
    response = upload(member_client, "b.txt")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many uploads from your address" in response.content.decode()


# --- Logins, TLS, metrics token, public errors, CSV ------------------------------------------


def test_repeated_failed_logins_lock_the_account_out_from_that_address(client, member, settings):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "member", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post(url, {"username": "member", "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "Try again later (in 15 min 0 s)" in locked.content.decode()
    right = client.post(url, {"username": "member", "password": "member-password-1"})
    assert right.status_code == 429, "locked out even with the right password"
    other_address = client.post(
        url, {"username": "member", "password": "member-password-1"}, REMOTE_ADDR="198.51.100.2"
    )
    assert other_address.status_code == 302


def test_the_admin_login_is_throttled_too(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "admin", "password": "x"}).status_code == 429


@override_settings(SECURE_SSL_REDIRECT=True)
def test_with_tls_redirects_healthz_and_metrics_are_exempt(client, fake_engine):
    assert client.get(ANALYZE_URL).status_code == 301
    assert client.get(reverse("analyzer:healthz")).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_metrics_ask_for_the_token_when_one_is_set(client, settings):
    settings.TOXMON_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret€").status_code == 401
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret")
    assert refused.status_code == 403, "the token does not replace the allow-list"


def test_healthz_does_not_tell_the_public_why_the_model_is_missing(client, monkeypatch):
    from analyzer.engines import loader
    from analyzer.engines.base import ModelUnavailable

    def unavailable():
        raise ModelUnavailable("/srv/secret/path/model.onnx: permission denied")

    monkeypatch.setattr(loader, "engine_get", unavailable)
    response = client.get(reverse("analyzer:healthz"))
    assert response.status_code == 503
    assert "/srv/secret" not in response.content.decode()


@pytest.mark.parametrize("value", [" =1+1", "\n@SUM(A1)", "  -2+3", "\t=cmd"])
def test_formulas_after_leading_whitespace_are_neutralised(value):
    assert spreadsheet_safe(value) == "'" + value


def test_the_form_says_texts_are_stored_and_for_how_long(client, fake_engine, settings):
    assert "stored until an administrator deletes them" in client.get(ANALYZE_URL).content.decode()
    settings.TOXMON_RETENTION_DAYS = 30
    assert "deleted after 30 days" in client.get(ANALYZE_URL).content.decode()
