"""Where a form post's CPU goes besides the model: the app in-process with a model that costs
nothing, each part timed on its own.

`form_post_profile()` runs this module in a fresh process with the served settings and its own
SQLite file (`python -m benchmarks.request_profile` prints the JSON).
"""

import io
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTS = 300
TEXT = "Thank you for the lovely comment, you are a complete idiot and everyone knows it."
LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


def cpu_ms(action: Callable[[], object], *, count: int = POSTS) -> float:
    """Return the CPU milliseconds of one call of action, the best of three rounds."""
    for _warm_up in range(20):
        action()
    rounds = []
    for _round in range(3):
        started = time.process_time()
        for _call in range(count):
            action()
        rounds.append(1000 * (time.process_time() - started) / count)
    return min(rounds)


def measure() -> dict:
    """Time a form post through the WSGI application and its parts; return ms of CPU each."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from analyzer import explanation_links, metrics, policies, services
    from analyzer.engines import loader
    from analyzer.engines.base import Prediction
    from analyzer.forms import AnalyzeForm
    from analyzer.normalization import normalized
    from toxmon.wsgi import application

    class FreeEngine:
        runtime, model, labels, fallback = "free", "free", LABELS, False

        def predict(self, texts: list[str], **_options: object) -> list[Prediction]:
            return [Prediction(scores={label: 0.1 for label in LABELS}) for _text in texts]

    engine = FreeEngine()
    loader.engine_get = lambda: engine

    def wsgi(method: str, path: str = "/", body: bytes = b"", cookie: str = "") -> tuple:
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookie,
            "HTTP_REFERER": "http://127.0.0.1/",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        answer: list = []
        content = b"".join(
            application(environ, lambda status, headers: answer.extend([status, headers]))
        )
        # A refused request (429, 403) costs less than a served one: it would flatter the figures.
        assert answer[0].startswith("200"), f"{method} {path}: {answer[0]}"
        return answer[0], answer[1], content

    _status, headers, page = wsgi("GET")
    cookie = next(value for name, value in headers if name == "Set-Cookie").split(";")[0]
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "text": TEXT}).encode()
    default_body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "text": TEXT, "explain": "on"}
    ).encode()
    status, _headers, _answer = wsgi("POST", body=body, cookie=cookie)
    assert status.startswith("200"), status
    link = re.search(
        rb'data-explanation-src="([^"]+)', wsgi("POST", body=default_body, cookie=cookie)[2]
    )

    request = RequestFactory().post("/", {"text": TEXT})
    form = AnalyzeForm(request.POST)
    form.is_valid()
    [analysis] = services.analyses_build(texts=[TEXT])
    analysis.save()
    context = {"form": form, "analysis": analysis, "explanation_url": "/explanations/1:a:b"}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]

    def store() -> None:
        [fresh] = services.analyses_build(texts=[TEXT])
        services.analyses_save(analyses=[fresh])

    wall_started = time.perf_counter()
    for _call in range(POSTS):
        store()
    store_wall = 1000 * (time.perf_counter() - wall_started) / POSTS
    scores = {label: 0.1 for label in LABELS}
    return {
        "journal_mode": journal_mode,
        "post": cpu_ms(lambda: wsgi("POST", body=body, cookie=cookie)),
        "post_default": cpu_ms(lambda: wsgi("POST", body=default_body, cookie=cookie)),
        "explanation_fetch": cpu_ms(
            lambda: wsgi("GET", path=link.group(1).decode(), cookie=cookie)
        ),
        "get": cpu_ms(lambda: wsgi("GET", cookie=cookie)),
        "page": cpu_ms(lambda: render_to_string("analyzer/analyze.html", context, request)),
        "store": cpu_ms(store),
        "store_wall": store_wall,
        "build": cpu_ms(lambda: services.analyses_build(texts=[TEXT])),
        "full_clean": cpu_ms(lambda: analysis.full_clean(exclude=["policy_version"])),
        "metrics": cpu_ms(
            lambda: metrics.prediction_observed(
                engine="free",
                seconds=0.01,
                verdicts=["toxic"],
                scores=[scores],
                windows=[1],
                actions=["allow"],
            )
        ),
        "policy": cpu_ms(lambda: policies.policy_current(labels=LABELS)),
        "normalization": cpu_ms(lambda: normalized(text=TEXT)),
        "link": cpu_ms(lambda: explanation_links.link_token(analysis_id=analysis.pk)),
    }


def form_post_profile() -> dict:
    """Return measure()'s figures, measured in a fresh process with the served settings."""
    from tests.serving import app_env

    with tempfile.TemporaryDirectory(prefix="toxmon-bench-profile-") as directory:
        (Path(directory) / "data").mkdir()
        env = app_env(
            Path(directory),
            TOXMON_LOG_LEVEL="WARNING",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            # Thousands of posts from one address: the form's rate limit would refuse them.
            TOXMON_FORM_RATE_LIMIT="1000000/minute",
            # Metrics kept in files shared by the workers, as under gunicorn.
            SERVER_SOFTWARE="gunicorn/profile",
        )
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.request_profile"],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def report_lines(profile: dict) -> list[str]:
    """Return the profile as a table of CPU per part of a form post, for docs/benchmark.md."""
    parts = [
        ("rendering the results page (form, verdict, label table)", profile["page"]),
        ("storing the analysis: INSERT and COMMIT", profile["store"] - profile["build"]),
        (
            "building the analysis (normalizing, scores to a row, policy, full_clean, metrics)",
            profile["build"],
        ),
        ("  of which normalizing the text", profile["normalization"]),
        ("  of which reading the label policy (one query)", profile["policy"]),
        ("  of which full_clean", profile["full_clean"]),
        ("  of which the metrics", profile["metrics"]),
    ]
    accounted = profile["page"] + profile["store"]
    lines = [
        f"CPU per request, in-process WSGI (no gunicorn), SQLite in `{profile['journal_mode']}` "
        "journal mode, a model that costs nothing; best of three rounds of "
        f"{POSTS}.",
        "",
        "| request or part | CPU ms |",
        "|---|---:|",
        f"| **a form post, explanations off** | **{profile['post']:.2f}** |",
        *(f"| {name} | {value:.2f} |" for name, value in parts),
        f"| the rest: middleware, CSRF, session, form validation, URL routing | "
        f"{profile['post'] - accounted:.2f} |",
        f"| a form post, default (also signs the explanation link: {profile['link']:.3f}) | "
        f"{profile['post_default']:.2f} |",
        f"| the explanation fetch that follows it (with a free model) | "
        f"{profile['explanation_fetch']:.2f} |",
        f"| the form page (GET) | {profile['get']:.2f} |",
        "",
        f"Storing one analysis takes {profile['store_wall']:.1f} ms of wall time, most of it "
        "waiting for the disk at COMMIT, during which the database is locked for other writers.",
    ]
    return lines


if __name__ == "__main__":
    print(json.dumps(measure()))
