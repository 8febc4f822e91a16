"""The limits that keep one client from taking the service down, against gunicorn.

One app serves the request-size, rate-limit, batch and retention tests; a second one runs with
DJANGO_SECURE_SSL=1 and a metrics token. 127.0.0.1 is a trusted proxy in the first, so each test
can be a different client by its X-Forwarded-For, as clients behind a real proxy are.
"""

import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.concurrent_use import cache_increments_concurrently
from tests.serving import LiveApp, served_app

FORM_LIMIT = 5
TWO_GB = 2 * 1024**3
USERNAME = "moderator"
PASSWORD = "live-test-only-password-7c1e"
METRICS_TOKEN = "live-test-metrics-token-5d2a"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    workdir = tmp_path_factory.mktemp("limits")
    (workdir / "tmp").mkdir()
    with served_app(
        workdir,
        # The offline engine: no model to load, verdicts that do not matter here.
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="0",
        TOXMON_FORM_RATE_LIMIT=f"{FORM_LIMIT}/minute",
        TOXMON_TRUSTED_PROXIES="127.0.0.1",
        TOXMON_BATCH_MAX_UNFINISHED_PER_USER="1",
        # Where Django would spool an upload: it must stay empty.
        TMPDIR=str(workdir / "tmp"),
    ) as live:
        live.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({USERNAME!r}, password={PASSWORD!r})",
        )
        yield live


def session_for(client_ip: str) -> requests.Session:
    """Return a session that is the client at client_ip (through the trusted proxy)."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = client_ip
    return session


def form_post(session: requests.Session, url: str, text: str) -> requests.Response:
    page = session.get(f"{url}/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    return session.post(
        f"{url}/",
        data={"text": text, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{url}/"},
        timeout=30,
    )


def csrf_cookie(url: str) -> str:
    page = requests.get(f"{url}/", headers={"X-Forwarded-For": "192.0.2.200"}, timeout=30)
    return page.cookies["csrftoken"]


def raw_request(url: str, head: str, body: bytes = b"", *, timeout: float = 1.0) -> bytes:
    """Send head and body on a fresh connection; return what arrives until close or timeout."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
    return received


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_2_gb_announcement_is_refused_in_under_a_second_with_nothing_written(app):
    token = csrf_cookie(app.url)
    data_before = sum(path.stat().st_size for path in files_under(app.database.parent))
    head = (
        "POST / HTTP/1.1\n"
        f"Host: {app.url.removeprefix('http://')}\n"
        "Content-Type: multipart/form-data; boundary=limit\n"
        f"Content-Length: {TWO_GB}\n"
        f"Cookie: csrftoken={token}\n"
        f"X-CSRFToken: {token}\n"
        f"Referer: {app.url}/\n"
        "X-Forwarded-For: 192.0.2.1\n"
    )
    # The start of a file upload, as a client would stream it.
    body = b'--limit\r\nContent-Disposition: form-data; name="text"; filename="big.txt"\r\n\r\n'
    started = time.monotonic()
    answer = raw_request(app.url, head, body + b"x" * 65536)
    elapsed = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert elapsed < 1.0, f"refused after {elapsed:.2f} s"
    assert files_under(Path(app.env["TMPDIR"])) == [], "nothing spooled to disk"
    data_after = sum(path.stat().st_size for path in files_under(app.database.parent))
    assert data_after - data_before < 65536, "nothing of the body stored"


def test_a_batch_upload_over_its_limit_is_refused_before_it_is_read(app):
    head = (
        "POST /batches/ HTTP/1.1\n"
        f"Host: {app.url.removeprefix('http://')}\n"
        "Content-Type: multipart/form-data; boundary=limit\n"
        f"Content-Length: {21 * 1024 * 1024 + 65536 + 1}\n"
    )
    answer = raw_request(app.url, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_a_chunked_body_is_cut_at_the_limit_and_one_within_it_is_read(app):
    token = csrf_cookie(app.url)
    head = (
        "POST / HTTP/1.1\n"
        f"Host: {app.url.removeprefix('http://')}\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        "Transfer-Encoding: chunked\n"
        f"Cookie: csrftoken={token}\n"
        f"X-CSRFToken: {token}\n"
        f"Referer: {app.url}/\n"
        "X-Forwarded-For: 192.0.2.3\n"
        "Connection: close\n"
    )

    def chunked(data: bytes, size: int = 8192) -> bytes:
        pieces = [data[i : i + size] for i in range(0, len(data), size)]
        return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"

    over = b"text=" + b"a" * 400_000
    answer = raw_request(app.url, head, chunked(over), timeout=5)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]

    within = b"text=You+are+a+complete+idiot"
    answer = raw_request(app.url, head, chunked(within), timeout=10)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]


def test_the_form_answers_429_after_its_limit_keeping_the_text_and_other_clients_go_on(app):
    client = session_for("198.51.100.7")
    statuses = [form_post(client, app.url, f"comment {n}").status_code for n in range(FORM_LIMIT)]
    assert statuses == [200] * FORM_LIMIT

    refused = form_post(client, app.url, "Please keep this text of mine")

    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many analyses from your address" in refused.text
    assert "Please keep this text of mine</textarea>" in refused.text
    assert form_post(session_for("198.51.100.8"), app.url, "hello").status_code == 200


def test_concurrent_posts_of_one_client_are_all_counted(app):
    client_ip = "198.51.100.50"
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(
                lambda n: form_post(session_for(client_ip), app.url, f"burst {n}").status_code,
                range(3 * FORM_LIMIT),
            )
        )
    assert sorted(statuses) == [200] * FORM_LIMIT + [429] * (2 * FORM_LIMIT), statuses


def test_the_database_cache_loses_no_concurrent_increment_on_sqlite(app):
    counted, made = cache_increments_concurrently(app)
    # On a loaded machine an increment can time out waiting for SQLite's lock and say so;
    # none that returned may be missing from the count.
    assert counted == made and int(made) >= 100, (counted, made)


def test_anonymous_batch_upload_is_redirected_to_login(app):
    response = requests.get(f"{app.url}/batches/", allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/batches/"


def logged_in(url: str) -> requests.Session:
    session = session_for("203.0.113.9")
    page = session.get(f"{url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    response = session.post(
        f"{url}/accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=30,
    )
    assert response.status_code == 200 and "Log out" in response.text, response.text
    return session


def batch_upload(session: requests.Session, url: str, name: str) -> requests.Response:
    page = session.get(f"{url}/batches/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    return session.post(
        f"{url}/batches/",
        data={"csrfmiddlewaretoken": token[1], "column": ""},
        files={"file": (name, b"hello\nyou idiot\n", "text/plain")},
        headers={"Referer": f"{url}/batches/"},
        allow_redirects=False,
        timeout=30,
    )


def test_a_user_may_have_one_unfinished_batch_and_sees_it_listed(app):
    session = logged_in(app.url)
    first = batch_upload(session, app.url, "first.txt")
    assert first.status_code == 302, first.text
    # No task worker runs here, so the first batch stays queued.
    second = batch_upload(session, app.url, "second.txt")

    assert second.status_code == 429
    assert "You have 1 batches queued or running" in second.text
    page = session.get(f"{app.url}/batches/", timeout=30).text
    assert "Your batches" in page and "first.txt" in page and "second.txt" not in page
    other_client = requests.get(f"{app.url}{first.headers['Location']}", timeout=30)
    assert other_client.status_code == 404, "a user's batch is not anyone's"


def test_purge_deletes_exactly_the_rows_older_than_the_cut_off(app):
    code = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from analyzer.models import Analysis\n"
        "now = timezone.now()\n"
        "Analysis.objects.all().delete()\n"
        "for days in (0, 29, 31, 400):\n"
        "    Analysis.objects.create(text=f'{days} days', scores={'toxic': 0.1},"
        " verdict='not_toxic', top_label='toxic', max_score=0.1, threshold=0.5,"
        " engine='e', model_name='m', latency_ms=1, created_at=now - timedelta(days=days))\n"
    )
    app.manage("shell", "-c", code)
    dry = app.manage("purge_analyses", "--older-than", "30", "--dry-run").stdout
    assert "Would delete 2 analyses" in dry

    purged = app.manage("purge_analyses", "--older-than", "30").stdout

    assert "Deleted 2 analyses" in purged
    left = app.manage(
        "shell",
        "-c",
        "import json; from analyzer.models import Analysis; "
        "print(json.dumps(sorted(Analysis.objects.values_list('text', flat=True))))",
    ).stdout
    assert json.loads(left.strip().splitlines()[-1]) == ["0 days", "29 days"]


@pytest.fixture(scope="module")
def tls_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The app as production runs it behind TLS: served_app waits for a plain /healthz 200."""
    with served_app(
        tmp_path_factory.mktemp("tls"),
        TOXMON_MODEL="unitary/toxic-bert",
        TOXMON_REQUIRE_MODEL="0",
        DJANGO_SECURE_SSL="1",
        TOXMON_METRICS_TOKEN=METRICS_TOKEN,
    ) as live:
        yield live


def get(
    url: str, path: str, *, source: str = "127.0.0.1", **headers: str
) -> http.client.HTTPResponse:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_with_tls_pages_redirect_but_healthz_and_metrics_answer_plain_http(tls_app):
    page = get(tls_app.url, "/")
    assert page.status == 301 and page.headers["Location"].startswith("https://")

    assert get(tls_app.url, "/healthz").status == 200
    metrics = get(tls_app.url, "/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert metrics.status == 200


def test_metrics_need_the_token_and_an_allowed_address(tls_app):
    assert get(tls_app.url, "/metrics").status == 401
    assert get(tls_app.url, "/metrics", Authorization="Bearer wrong").status == 401
    # 127.0.0.2 is this machine too, but not in TOXMON_METRICS_ALLOWED_IPS.
    other = get(
        tls_app.url, "/metrics", source="127.0.0.2", Authorization=f"Bearer {METRICS_TOKEN}"
    )
    assert other.status == 403
