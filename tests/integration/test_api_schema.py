"""The OpenAPI document against the live API: schemathesis finds no server error or mismatch."""

import json
import urllib.request
from pathlib import Path

import pytest

from tests.serving import schemathesis_run, served_app


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("api")
    # Schemathesis sends hundreds of requests; the rate limit has its own unit test.
    with served_app(workdir, TOXMON_API_RATE_LIMIT="100000/minute") as app:
        key = app.manage("api_token_create", "schemathesis").stdout.strip()
        yield app, key


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_api, tmp_path: Path):
    app, key = live_api
    result = schemathesis_run(
        document_url=f"{app.url}/api/v1/openapi.json", key=key, report_dir=tmp_path, timeout=600
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_a_curl_style_request_to_the_live_app_scores_and_explains(live_api):
    app, key = live_api
    request = urllib.request.Request(
        f"{app.url}/api/v1/analyze",
        data=json.dumps({"texts": ["You are a complete idiot"], "explain": True}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    [result] = body["results"]
    assert body["engine"] == "profanity-check" and body["fallback"] is True
    assert result["verdict"] == "toxic" and isinstance(result["id"], int)
    assert max(result["spans"], key=lambda span: span["contribution"])["text"] == "idiot"
