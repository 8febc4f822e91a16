import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.serving import ROOT

pytestmark = pytest.mark.django_db


def settings_import(**env: str) -> subprocess.CompletedProcess:
    """Import toxmon.settings in a fresh interpreter with only the given variables set."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", "import toxmon.settings as s; print(s.DEBUG)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_the_server_refuses_to_start_without_a_secret_key():
    result = settings_import()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = settings_import(DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_an_impossible_threshold_stops_start_up():
    result = settings_import(DJANGO_SECRET_KEY="k" * 50, TOXMON_THRESHOLD="1.5")
    assert result.returncode != 0
    assert "TOXMON_THRESHOLD" in result.stderr


def test_an_unknown_runtime_stops_start_up():
    result = settings_import(DJANGO_SECRET_KEY="k" * 50, TOXMON_RUNTIME="onnx")
    assert result.returncode != 0
    assert "TOXMON_RUNTIME must be one of auto, torch, onnx-int8, onnx-fp32" in result.stderr


@pytest.mark.parametrize("name", ["TOXMON_FORM_RATE_LIMIT", "TOXMON_BATCH_RATE_LIMIT"])
def test_a_malformed_rate_limit_stops_start_up(name):
    result = settings_import(DJANGO_SECRET_KEY="k" * 50, **{name: "lots"})
    assert result.returncode != 0
    assert f'{name} must look like "30/minute"' in result.stderr


def test_a_cache_that_is_not_redis_stops_start_up():
    result = settings_import(DJANGO_SECRET_KEY="k" * 50, TOXMON_CACHE_URL="memcached://x")
    assert result.returncode != 0
    assert "TOXMON_CACHE_URL must be a redis://" in result.stderr


def test_a_redis_url_counts_the_rate_limits_in_redis():
    result = subprocess.run(
        [sys.executable, "-c", "import toxmon.settings as s; print(s.CACHES['default'])"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SECRET_KEY": "k" * 50, "TOXMON_CACHE_URL": "redis://r:6379/0"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "django.core.cache.backends.redis.RedisCache" in result.stdout
    assert "redis://r:6379/0" in result.stdout


def test_pages_carry_a_strict_content_security_policy(client, fake_engine):
    response = client.get(reverse("analyzer:analyze"))
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_pages_carry_the_security_headers(client, fake_engine):
    response = client.get(reverse("analyzer:analyze"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_templates_have_no_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        assert "<script>" not in html and "style=" not in html and "<style" not in html, template


def test_unknown_hosts_are_refused(client, fake_engine):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_database_url_switches_to_postgresql_with_query_metrics():
    result = subprocess.run(
        [sys.executable, "-c", "import toxmon.settings as s; print(s.DATABASES['default'])"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SECRET_KEY": "k" * 50,
            "DATABASE_URL": "postgres://toxmon:secret@db.internal:5432/toxmon",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "'ENGINE': 'django_prometheus.db.backends.postgresql'" in result.stdout
    assert "'HOST': 'db.internal'" in result.stdout and "'NAME': 'toxmon'" in result.stdout
