"""The Perspective routes served by gunicorn, against a client this project did not write
(perspective-api-client@3.1.0 from npm) and against schemathesis with the routes' document."""

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.serving import ROOT, schemathesis_run, served_app

HARNESS = ROOT / "tests" / "perspective_client"
TEXT = "Thanks for the article! 😀 You are an idiot."
SIX_ATTRIBUTES = {"TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT"}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    # The tiny model has toxic-bert's six labels (random weights: its scores mean nothing), so
    # every attribute the npm client asks for is answered. Schemathesis sends hundreds of
    # requests; the rate limit has its own tests.
    workdir = tmp_path_factory.mktemp("perspective")
    with served_app(
        workdir, TOXMON_MODEL=str(tiny_model_dir), TOXMON_API_RATE_LIMIT="100000/minute"
    ) as app:
        key = app.manage("api_token_create", "perspective-client").stdout.strip()
        yield app, key


@pytest.fixture(scope="module")
def npm_client_run(live_app):
    app, key = live_app
    if not (HARNESS / "node_modules" / "perspective-api-client").is_dir():
        pytest.fail("the npm client is not installed: run `make perspective-client`")
    result = subprocess.run(
        ["node", str(HARNESS / "analyze.js"), app.url, key],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PERSPECTIVE_TEXT": TEXT},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stored_analyses(app) -> list[tuple[str, str, str]]:
    with sqlite3.connect(app.database) as database:
        return database.execute("SELECT text, source, model_name FROM analyzer_analysis").fetchall()


def test_the_npm_client_gets_every_attribute_it_asks_for(npm_client_run):
    stored = npm_client_run["stored"]
    assert stored["ok"], stored
    body = stored["data"]
    assert set(body["attributeScores"]) == SIX_ATTRIBUTES
    for scores in body["attributeScores"].values():
        assert scores["summaryScore"]["type"] == "PROBABILITY"
        assert 0 <= scores["summaryScore"]["value"] <= 1
        assert "spanScores" not in scores
    assert body["languages"] == ["en"] and body["detectedLanguages"] == ["en"]
    assert stored["sent"]["params"]["key"] and stored["sent"]["data"]["doNotStore"] is False


def test_only_the_call_that_said_do_not_store_false_is_stored(live_app, npm_client_run):
    app, _ = live_app
    not_stored = npm_client_run["notStored"]
    assert not_stored["ok"], not_stored
    assert set(not_stored["data"]["attributeScores"]) == {"TOXICITY", "INSULT"}
    assert not_stored["sent"]["data"]["doNotStore"] is True, "the client's default"
    # Four calls: stored, notStored, request (doNotStore by default) and badKey.
    [(text, source, _model)] = stored_analyses(app)
    assert (text, source) == (TEXT, "perspective")


def test_a_whole_request_gets_utf16_spans_a_threshold_and_its_client_token(npm_client_run):
    request = npm_client_run["request"]
    assert request["ok"], request
    body = request["data"]
    assert body["clientToken"] == "toxmon-harness"
    assert body["languages"] == ["en"] and "detectedLanguages" not in body
    insult = body["attributeScores"]["INSULT"]
    # "Thanks for the article!" then "😀 You are an idiot.", the emoji two code units long.
    assert [(span["begin"], span["end"]) for span in insult["spanScores"]] == [(0, 23), (24, 44)]
    # TOXICITY was asked with scoreThreshold 0.5: it comes back exactly when it reaches 0.5.
    toxicity = npm_client_run["stored"]["data"]["attributeScores"]["TOXICITY"]
    reaches = toxicity["summaryScore"]["value"] >= 0.5
    assert ("TOXICITY" in body["attributeScores"]) == reaches


def test_a_bad_key_rejects_with_perspectives_message(npm_client_run):
    bad_key = npm_client_run["badKey"]
    assert bad_key["ok"] is False
    error = bad_key["error"]
    assert error["name"] == "ResponseError"
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["status"] == 400
    assert error["data"]["error"]["status"] == "INVALID_ARGUMENT"


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_app, tmp_path: Path):
    app, key = live_app
    result = schemathesis_run(
        document_url=f"{app.url}/v1alpha1/openapi.json",
        key=key,
        report_dir=tmp_path,
        # Perspective refuses schema-valid requests the schema cannot rule out (a language the
        # model does not read, a context with both forms) with 400, and a bad ?key= with 400
        # rather than 401: both are the wire format, pinned by the unit tests.
        exclude_checks="positive_data_acceptance,ignored_auth",
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
