"""How fast toxmon serves toxic-bert on this machine: `make bench` (a benchmark, not a test).

Serves the app under gunicorn with a full-size model (toxic-bert's real weights when
`fetch_model` put them in TOXMON_MODEL_DIR, otherwise BERT-base in toxic-bert's shape with random
weights: speed does not depend on weight values) and drives it with locust the way people use it:
the form as a browser sends it by default (explanations on, then the page's script fetches
them), the form without explanations, and the API with and without `explain`. Beside that it
measures the engine alone in the served layout, what an explanation costs the model, the naive
baseline (PyTorch, one text per call), the accuracy drift of the fast runtimes, start-up time and
memory, and this CPU's int8 matrix-multiply peak. Each target is checked as a ratio of two
figures measured in the same run. Prints the results and writes them to docs/benchmark.md.
"""

import argparse
import atexit
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from benchmarks import machine, request_profile  # noqa: E402
from benchmarks.corpus import corpus_texts, drift_texts, explain_texts, short_texts  # noqa: E402
from tests.serving import app_env, served_app  # noqa: E402

REAL_MODEL = "unitary/toxic-bert"
RANDOM_MODEL_FOLDER = "toxic-bert-shaped-base-random"
RESULTS = ROOT / "docs" / "benchmark.md"
# The server as gunicorn.conf.py configures it by default, and as it was before issue 7.
OPTIMIZED = {
    "workers": os.cpu_count() or 1,
    "threads": 8,
    "env": {"TOXMON_RUNTIME": "onnx-int8", "TOXMON_API_RATE_LIMIT": "1000000/second"},
}
NAIVE = {
    "workers": 2,
    "threads": 2,
    "env": {"TOXMON_RUNTIME": "torch", "TOXMON_MICROBATCH": "0", "TOXMON_INTRA_OP_THREADS": "0"},
}
# What locust drives: (path, corpus, users). The headline is the form's default path.
PATHS = {
    "form-default": "form, default (explanations on, then the script's fetch)",
    "form": "form, explanations off",
    "api": "API, without explain",
    "api-explain": "API, with explain",
}
OPTIMIZED_RUNS = [
    ("form-default", "short", 16),
    ("form", "short", 16),
    ("api", "short", 16),
    ("api-explain", "short", 16),
    ("form-default", "short", 4),
    ("form", "short", 4),
    ("form-default", "mixed", 16),
    ("form", "mixed", 16),
    ("form", "mixed", 1),
    ("form", "mixed", 4),
    ("form", "mixed", 32),
]
NAIVE_RUNS = [("form", "mixed", 1), ("form", "mixed", 16), ("form", "short", 16)]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the model ---------------------------------------------------------------------------------


def model_prepare(model_dir: Path) -> tuple[Path, str]:
    """Return the folder of the model to serve and a sentence saying which model it is."""
    from analyzer.engines.onnx_export import onnx_export

    real = model_dir / REAL_MODEL.replace("/", "--")
    if (real / "config.json").is_file():
        folder, which = real, f"`{REAL_MODEL}` with its real weights"
    else:
        folder = model_dir / RANDOM_MODEL_FOLDER
        config = folder / "config.json"
        # Folders built before the factory trained a real-sized vocabulary are built again.
        if not config.is_file() or json.loads(config.read_text())["vocab_size"] != 30522:
            from tests.model_factory import build_bert

            log(f"Building BERT-base with random weights in {folder} ...")
            shutil.rmtree(folder, ignore_errors=True)
            build_bert(folder, size="base")
        vocabulary = json.loads((folder / "config.json").read_text())["vocab_size"]
        which = (
            f"BERT-base in toxic-bert's shape with **random weights** (the real `{REAL_MODEL}` "
            f"weights are not in {model_dir}) and toxic-bert's vocabulary size, {vocabulary:,} "
            "English word pieces; speed does not depend on weight values, but the drift figures "
            "are for random weights"
        )
    onnx_export(folder, log=log)
    return folder, which


# --- measuring processes -----------------------------------------------------------------------


@dataclass
class Usage:
    cpu_percent: float = 0.0
    rss_mb_per_worker: list[float] = field(default_factory=list)


@contextmanager
def usage_of(root_pid: int) -> Iterator[Usage]:
    """Measure the CPU of root_pid and its children, and the largest RSS of each child."""
    usage = Usage()
    root = psutil.Process(root_pid)
    peaks: dict[int, float] = {}
    stop = threading.Event()

    def processes() -> list[psutil.Process]:
        return [root, *root.children(recursive=True)]

    def cpu_seconds() -> float:
        total = 0.0
        for process in processes():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def sample() -> None:
        while not stop.wait(0.5):
            for child in root.children(recursive=True):
                try:
                    rss = child.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
                peaks[child.pid] = max(peaks.get(child.pid, 0.0), rss)

    sampler = threading.Thread(target=sample, daemon=True)
    started, cpu_before = time.monotonic(), cpu_seconds()
    sampler.start()
    try:
        yield usage
    finally:
        usage.cpu_percent = 100 * (cpu_seconds() - cpu_before) / (time.monotonic() - started)
        stop.set()
        sampler.join()
        usage.rss_mb_per_worker = sorted(peaks.values(), reverse=True)


# --- HTTP through locust -----------------------------------------------------------------------


@dataclass
class HttpRun:
    server: str
    path: str
    corpus: str
    users: int
    analyses_per_second: float
    p50: float
    p95: float
    p99: float
    requests: int
    failures: int
    cpu_percent: float
    locust_cpu_percent: float
    rss_mb_per_worker: list[float]
    # The explanation fetches of the default form path: done, declined as busy, p50 ms.
    explained: int = 0
    busy: int = 0
    explanation_p50: float = 0.0


def locust_run(
    url: str, *, users: int, seconds: int, corpus: str, path: str, workdir: Path, key: str = ""
) -> dict[str, dict]:
    """Drive url with locust for `seconds`; return its stats rows by request name."""
    prefix = workdir / f"locust-{path}-{corpus}-{users}"
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(ROOT / "benchmarks" / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BENCH_CORPUS": corpus,
        "BENCH_PATH": path,
        "BENCH_API_KEY": key,
    }
    locust = subprocess.Popen(  # noqa: S603 (our own command line)
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    process = psutil.Process(locust.pid)
    cpu_before = sum(process.cpu_times()[:2])
    started = time.monotonic()
    cpu = cpu_before
    while locust.poll() is None:
        try:
            cpu = sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    _stdout, stderr = locust.communicate(timeout=seconds + 60)
    with open(f"{prefix}_stats.csv") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    if "analyze" not in rows:
        raise RuntimeError(f"locust made no analyses: {stderr[-2000:]}")
    rows["analyze"]["locust_cpu_percent"] = 100 * (cpu - cpu_before) / (time.monotonic() - started)
    return rows


def http_runs(
    name: str,
    server: dict,
    model_folder: Path,
    *,
    runs: Sequence[tuple[str, str, int]],
    seconds: int,
) -> list[HttpRun]:
    """Serve the app as `server` says and run locust for each (path, corpus, users)."""
    results = []
    with tempfile.TemporaryDirectory(prefix=f"toxmon-bench-{name}-") as directory:
        workdir = Path(directory)
        log(f"Serving the {name} server ({server}) ...")
        with served_app(
            workdir,
            workers=server["workers"],
            threads=server["threads"],
            startup_timeout=180,
            TOXMON_MODEL=str(model_folder),
            TOXMON_REQUIRE_MODEL="1",
            GUNICORN_LOG_LEVEL="warning",
            # locust posts from one address as fast as the server answers: no per-client limit
            # may stand in the way of measuring the server.
            TOXMON_FORM_RATE_LIMIT="1000000/minute",
            **server["env"],
        ) as app:
            health = json.loads(subprocess_get(f"{app.url}/healthz"))
            log(f"{name}: {health['engine']} serving {health['model']}")
            key = app.manage("api_token_create", "bench").stdout.strip()
            # One pass through the path so every worker has run the model before measuring.
            locust_run(app.url, users=2, seconds=3, corpus="short", path="form", workdir=workdir)
            for path, corpus, users in runs:
                with usage_of(app.process.pid) as usage:
                    rows = locust_run(
                        app.url,
                        users=users,
                        seconds=seconds,
                        corpus=corpus,
                        path=path,
                        workdir=workdir,
                        key=key,
                    )
                row = rows["analyze"]
                explanation = rows.get("explanation")
                run = HttpRun(
                    server=name,
                    path=path,
                    corpus=corpus,
                    users=users,
                    analyses_per_second=float(row["Requests/s"])
                    * (1 - int(row["Failure Count"]) / max(1, int(row["Request Count"]))),
                    p50=float(row["50%"]),
                    p95=float(row["95%"]),
                    p99=float(row["99%"]),
                    requests=int(row["Request Count"]),
                    failures=int(row["Failure Count"]),
                    cpu_percent=usage.cpu_percent,
                    locust_cpu_percent=row["locust_cpu_percent"],
                    rss_mb_per_worker=usage.rss_mb_per_worker,
                )
                if explanation is not None:
                    run.busy = int(explanation["Failure Count"])
                    run.explained = int(explanation["Request Count"]) - run.busy
                    run.explanation_p50 = float(explanation["50%"])
                log(
                    f"{name} {path} {corpus} {users:>2} users: {run.analyses_per_second:.1f}/s "
                    f"p50 {run.p50:.0f} p95 {run.p95:.0f} ms, {run.failures} failures, "
                    f"explained {run.explained} busy {run.busy}, CPU {run.cpu_percent:.0f} %"
                )
                results.append(run)
    return results


def subprocess_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
        return response.read().decode()


# --- the default path, one user: does the verdict wait for the explanation? --------------------


def default_path_latency(model_folder: Path, *, repeats: int) -> dict[str, dict[str, float]]:
    """Median ms of a form post without explanations, with them (the default), and of the
    explanation fetch after it, for each of the issue's texts, on an otherwise idle server."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    token_pattern = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    link_pattern = re.compile(r'data-explanation-src="([^"]+)"')
    results = {}
    with (
        tempfile.TemporaryDirectory(prefix="toxmon-bench-latency-") as directory,
        served_app(
            Path(directory),
            workers=OPTIMIZED["workers"],
            threads=OPTIMIZED["threads"],
            startup_timeout=180,
            TOXMON_MODEL=str(model_folder),
            TOXMON_REQUIRE_MODEL="1",
            GUNICORN_LOG_LEVEL="warning",
            **OPTIMIZED["env"],
        ) as app,
    ):
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = opener.open(f"{app.url}/", timeout=30).read().decode()
        csrf = token_pattern.search(page).group(1)

        def timed(url: str, data: dict | None = None) -> tuple[float, str]:
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            request = urllib.request.Request(  # noqa: S310 (our own server)
                url, data=body, headers={"Referer": f"{app.url}/"}
            )
            started = time.perf_counter()
            try:
                with opener.open(request, timeout=300) as response:
                    text = response.read().decode()
            except urllib.error.HTTPError as error:  # 503: too busy to explain, said on the page
                text = error.read().decode()
            return 1000 * (time.perf_counter() - started), text

        for name, text in explain_texts().items():
            timed(f"{app.url}/", {"csrfmiddlewaretoken": csrf, "text": text})
            plain, default, fetch, busy = [], [], [], 0
            for _repeat in range(repeats):
                data = {"csrfmiddlewaretoken": csrf, "text": text}
                plain.append(timed(f"{app.url}/", data)[0])
                milliseconds, html = timed(f"{app.url}/", {**data, "explain": "on"})
                default.append(milliseconds)
                link = link_pattern.search(html).group(1)
                milliseconds, fragment = timed(f"{app.url}{link}")
                fetch.append(milliseconds)
                busy += 'data-explanation-state="busy"' in fragment
            results[name] = {
                "plain": statistics.median(plain),
                "default": statistics.median(default),
                "explanation": statistics.median(fetch),
                "busy": busy,
            }
            log(f"Default path, {name}: {results[name]}")
    return results


# --- the engine in-process ---------------------------------------------------------------------


RAW_TEXTS = 240


def _callers_run(engine, texts: Sequence[str], threads: int) -> float:
    """Score texts one per call from `threads` concurrent callers; return the seconds taken."""
    queue = iter(texts)
    lock = threading.Lock()

    def caller(_index: int) -> None:
        while True:
            with lock:
                text = next(queue, None)
            if text is None:
                return
            engine.predict([text])

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(caller, range(threads)))
    return time.monotonic() - started


def _served_engine(folder: Path, intra_op_threads: int):
    """Return the int8 engine as a gunicorn worker loads it: batching on, padding calibrated."""
    from analyzer.engines import loader
    from analyzer.engines.onnx_engine import OnnxEngine

    engine = OnnxEngine(
        folder,
        model="bench",
        runtime="onnx-int8",
        intra_op_threads=intra_op_threads,
        batch=loader.batch_limits(),
    )
    loader.batcher_calibrate(engine)
    return engine


def _served_worker(
    folder: Path, texts: Sequence[str], intra_op_threads: int, threads: int, start_at: float
) -> tuple[float, float, float, list[int]]:
    """Run in its own process like a gunicorn worker: return start, end, CPU seconds and batch
    sizes."""
    import django

    django.setup()
    engine = _served_engine(folder, intra_op_threads)
    engine.predict(texts[:2])
    engine.batcher.batch_sizes.clear()
    # Every worker starts at the same moment, so they share the cores as under load.
    time.sleep(max(0.0, start_at - time.time()))
    started, cpu_started = time.time(), time.process_time()
    _callers_run(engine, texts, threads)
    cpu_seconds = time.process_time() - cpu_started
    return started, time.time(), cpu_seconds, list(engine.batcher.batch_sizes)


def served_layout_throughput(folder: Path, texts: Sequence[str], *, callers: int) -> dict:
    """Texts/s of the engine laid out as the optimized server is: one process per worker, each
    with its share of the cores and of the callers, no HTTP."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = OPTIMIZED["workers"]
    intra_op_threads = max(1, (os.cpu_count() or 1) // workers)
    shares = [texts[index::workers] for index in range(workers)]
    start_at = time.time() + 20
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(
                _served_worker, folder, share, intra_op_threads, callers // workers, start_at
            )
            for share in shares
        ]
        outcomes = [future.result() for future in futures]
    seconds = max(outcome[1] for outcome in outcomes) - min(outcome[0] for outcome in outcomes)
    sizes = [size for outcome in outcomes for size in outcome[3]]
    return {
        "texts_per_second": len(texts) / seconds,
        "cpu_ms_per_text": 1000 * sum(outcome[2] for outcome in outcomes) / len(texts),
        "mean_batch": statistics.mean(sizes) if sizes else 0.0,
        "workers": workers,
        "intra_op_threads": intra_op_threads,
    }


def engine_throughput(model_folder: Path, *, threads: int = 16) -> dict[str, dict]:
    """Texts/s of the int8 engine with no HTTP in between, laid out as the optimized server is
    (one process per worker), on the first texts of each corpus; and the real tokens a text
    has, for the share of the machine's int8 peak."""
    from analyzer.engines.onnx_layout import onnx_folder

    folder = onnx_folder(model_folder)
    results: dict[str, dict] = {}
    for corpus, texts in (("mixed", corpus_texts()), ("short", short_texts())):
        texts = texts[:RAW_TEXTS]
        served = served_layout_throughput(folder, texts, callers=threads)
        results[corpus] = {
            "served": served["texts_per_second"],
            "served_mean_batch": served["mean_batch"],
            "served_cpu_ms_per_text": served["cpu_ms_per_text"],
            "tokens_per_text": machine.tokens_per_text(folder, texts),
        }
        log(f"Engine alone, {corpus}: {results[corpus]}")
    layout = f"{served['workers']} processes x {served['intra_op_threads']} intra-op thread(s)"
    return {"threads": threads, "layout": layout, **results}


def calibration(model_folder: Path) -> dict[str, float]:
    """Return what the served engine measured at start-up: cost per call, per token, padding."""
    from analyzer.engines.onnx_layout import onnx_folder

    intra_op_threads = max(1, (os.cpu_count() or 1) // OPTIMIZED["workers"])
    engine = _served_engine(onnx_folder(model_folder), intra_op_threads)
    cost = engine.calibrate()
    return {
        "call_ms": cost.call_seconds * 1000,
        "token_ms": cost.token_seconds * 1000,
        "padding_tokens": cost.padding_tokens,
    }


def accuracy_drift(model_folder: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Return, per fast runtime and label, the max and mean |score - torch fp32 score|."""
    from analyzer.engines.onnx_engine import OnnxEngine
    from analyzer.engines.onnx_layout import onnx_folder
    from analyzer.engines.pytorch_engine import TorchEngine

    texts = drift_texts()
    reference = TorchEngine(str(model_folder), model="bench")
    expected = [reference.predict([text])[0].scores for text in texts]
    drift = {}
    for runtime in ("onnx-fp32", "onnx-int8"):
        engine = OnnxEngine(onnx_folder(model_folder), model="bench", runtime=runtime)
        actual = [engine.predict([text])[0].scores for text in texts]
        drift[runtime] = {
            label: (
                max(abs(a[label] - e[label]) for a, e in zip(actual, expected, strict=True)),
                statistics.mean(
                    abs(a[label] - e[label]) for a, e in zip(actual, expected, strict=True)
                ),
            )
            for label in reference.labels
        }
    return drift


STARTUP_SCRIPT = """
import json, sys, time
import psutil
import toxmon.wsgi
from analyzer.engines.loader import engine_get
engine = engine_get()
engine.predict(["ready"])
print(json.dumps({
    "engine": engine.runtime,
    "rss_mb": psutil.Process().memory_info().rss / 2**20,
    "torch_imported": "torch" in sys.modules,
}))
"""


def startup(model_folder: Path, runtime: str) -> dict:
    """Return the seconds from starting a server process to its first answer, and its RSS."""
    with tempfile.TemporaryDirectory(prefix="toxmon-bench-startup-") as directory:
        (Path(directory) / "data").mkdir()
        env = app_env(
            Path(directory),
            TOXMON_MODEL=str(model_folder),
            TOXMON_RUNTIME=runtime,
            TOXMON_REQUIRE_MODEL="1",
            TOXMON_LOG_LEVEL="WARNING",
        )
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", STARTUP_SCRIPT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.monotonic() - started
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {**report, "seconds": seconds}


# --- the report --------------------------------------------------------------------------------


def find(http: Sequence[HttpRun], server: str, path: str, corpus: str, users: int):
    return next(
        (
            run
            for run in http
            if (run.server, run.path, run.corpus, run.users) == (server, path, corpus, users)
        ),
        None,
    )


def _http_table(http: Sequence[HttpRun]) -> list[str]:
    lines = [
        "| server | path | corpus | users | analyses/s | p50 ms | p95 ms | p99 ms | failures "
        "| explained / busy | explanation p50 ms | server CPU | locust CPU | RSS per worker MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in http:
        explained = f"{run.explained} / {run.busy}" if run.path == "form-default" else "-"
        explanation_p50 = f"{run.explanation_p50:.0f}" if run.path == "form-default" else "-"
        lines.append(
            f"| {run.server} | {PATHS[run.path]} | {run.corpus} | {run.users} "
            f"| {run.analyses_per_second:.1f} | {run.p50:.0f} | {run.p95:.0f} | {run.p99:.0f} "
            f"| {run.failures}/{run.requests} | {explained} | {explanation_p50} "
            f"| {run.cpu_percent:.0f} % | {run.locust_cpu_percent:.0f} % "
            f"| {', '.join(f'{rss:.0f}' for rss in run.rss_mb_per_worker)} |"
        )
    return lines


def _cpu_per_analysis(http: Sequence[HttpRun], raw: dict) -> list[str]:
    """Say where the CPU of one analysis goes: the model, measured alone, and the rest."""
    items = []
    for path, corpus in (("form", "short"), ("form-default", "short"), ("form", "mixed")):
        run = find(http, "optimized", path, corpus, 16)
        if run is None or not run.analyses_per_second:
            continue
        server_ms = 10 * run.cpu_percent / run.analyses_per_second
        model_ms = raw[corpus]["served_cpu_ms_per_text"]
        items.append(
            f"- {PATHS[path]}, *{corpus}*, 16 users: the server spends {server_ms:.0f} ms of CPU "
            f"per analysis; the model alone in the same layout {model_ms:.0f} ms of CPU per "
            f"text. The rest, about {server_ms - model_ms:.0f} ms, is gunicorn, Django, the "
            "form, the database and the page (and, on the default path, the explanation)."
        )
    if not items:
        return []
    return ["Where the CPU of one analysis goes (the cores are busy at 16 users):", "", *items, ""]


def report(results: dict) -> str:
    http: list[HttpRun] = results["http"]
    raw = results["raw"]
    cpu = results["cpu"]
    lines = [
        "# Benchmark",
        "",
        f"Written by `make bench` ({results['finished']}, {results['minutes']:.1f} min).",
        "",
        f"- **Machine:** {cpu['model']}, {cpu['cores']} cores, {cpu['memory_gib']:.0f} GiB RAM, "
        f"Linux {platform.release()}. Vector and matrix extensions: {cpu['extensions']}. "
        f"Load average before / after the run: {results['load_before']} / "
        f"{results['load_after']}. The cores are shared with other work, and locust runs on "
        "the same cores as the server (its CPU is shown), so absolute figures are noisy and on "
        "the low side; the targets are ratios of figures measured in this one run.",
        f"- **int8 matrix-multiply peak:** {cpu['gemm_gops']:.0f} GOPS on one core "
        f"({cpu['gemm_shape']} u8 x s8 -> s32 `MatMulInteger` on ONNX Runtime, best of "
        f"{cpu['gemm_repeats']}), so about {cpu['gemm_gops'] * cpu['cores']:.0f} GOPS for the "
        "machine.",
        f"- **Model:** {results['model']}.",
        f"- **Optimized server:** ONNX Runtime int8 (fused graph), micro-batching on "
        f"(padding rule measured at start-up: {results['calibration']['call_ms']:.1f} ms a call "
        f"+ {results['calibration']['token_ms']:.2f} ms a token, so a text may add "
        f"{results['calibration']['padding_tokens']} padding tokens), gunicorn "
        f"{OPTIMIZED['workers']} workers x {OPTIMIZED['threads']} threads, intra-op threads = "
        "cores / workers, inter-op 1.",
        f"- **Naive server:** PyTorch fp32, one text per model call, no batching, gunicorn "
        f"{NAIVE['workers']} workers x {NAIVE['threads']} threads, torch's default threads (the "
        "set-up before issue 7).",
        f"- **Load:** locust, each user sends without pause for {results['seconds']} s per row. "
        "*short*: comments of about 15 tokens; *mixed*: 400 fixed comments, 90 % of 10-40 "
        "tokens and 10 % of 100-500. The default form path posts with the explanation checkbox "
        "on (as the form is by default) and then fetches the explanation as the page's script "
        "does; a server too busy to explain answers that fetch 503 (*busy*).",
        "",
        "## Through HTTP",
        "",
        *_http_table(http),
        "",
        "CPU is the server's (master and workers) in % of one core; the machine has "
        f"{cpu['cores']} cores. analyses/s counts successful analyses only.",
        "",
        "## The verdict does not wait for the explanation (one user, idle server)",
        "",
        f"Median of {results['latency_repeats']} of each, in ms: the form post without "
        "explanations, the default post (checkbox on), and the explanation fetch that follows "
        "it on the page.",
        "",
        "| text | post, explanations off | post, default | default / off "
        "| explanation fetch | post + fetch | fetches declined as busy |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, latency in results["latency"].items():
        lines.append(
            f"| {name} | {latency['plain']:.0f} | {latency['default']:.0f} "
            f"| {latency['default'] / latency['plain']:.2f} | {latency['explanation']:.0f} "
            f"| {latency['default'] + latency['explanation']:.0f} "
            f"| {latency['busy']} of {results['latency_repeats']} |"
        )
    lines += [
        "",
        "## What an explanation costs the model (in-process, one thread)",
        "",
        "The analysis, then its explanation, of each text on the served int8 engine; model work "
        "is the time spent in model calls (best of 3) and the tokens they read, padding "
        "included. An explanation scores each sentence alone (skipped for one sentence), then "
        "removes words only in the sentences that carry the top label.",
        "",
        "| text | sentences | analysis ms | analysis tokens | explanation ms "
        "| explanation tokens | texts scored | model calls | explanation / analysis (time) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, cost in results["explain_cost"].items():
        lines.append(
            f"| {name} | {cost['sentences']} | {cost['analysis_ms']:.0f} "
            f"| {cost['analysis_tokens']} | {cost['explanation_ms']:.0f} "
            f"| {cost['explanation_tokens']} | {cost['inputs']} | {cost['calls']} "
            f"| {cost['ratio']:.2f} |"
        )
    agreement = results["agreement"]
    lines += [
        "",
        "A one-sentence comment needs one copy per word for plain occlusion (the row *one copy "
        "per word*). Above "
        f"{agreement['fine_words']} words the explanation occludes groups of about sqrt(words) "
        "words first and then the words of the best groups (coarse to fine). It found the same "
        "top word as one copy per word in "
        f"{agreement['offline_same']} of {agreement['offline_texts']} short comments on the "
        "offline engine (a real, linear model) and "
        f"{agreement['model_same']} of {agreement['model_texts']} on the benchmark's model "
        f"(random weights: its word scores are noise), with {agreement['model_inputs_coarse']:.1f} "
        f"copies instead of {agreement['model_inputs_full']:.1f} on average.",
        "",
        "## The engine alone (in-process, no HTTP)",
        "",
        f"The int8 engine on the first {RAW_TEXTS} texts of each corpus, laid out as the "
        f"optimized server is ({raw['layout']}, the {raw['threads']} callers split between "
        "them, padding rule calibrated as in a worker), which is what HTTP is compared with.",
        "",
        "| corpus | texts/s | mean batch | CPU ms per text | real tokens per text "
        "| model work, % of the int8 peak |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for corpus in ("short", "mixed"):
        share = machine.peak_share(
            texts_per_second=raw[corpus]["served"],
            tokens_per_text=raw[corpus]["tokens_per_text"],
            ops_per_token=results["ops_per_token"],
            peak_gops=cpu["gemm_gops"] * cpu["cores"],
        )
        lines.append(
            f"| {corpus} | {raw[corpus]['served']:.1f} | {raw[corpus]['served_mean_batch']:.1f} "
            f"| {raw[corpus]['served_cpu_ms_per_text']:.0f} "
            f"| {raw[corpus]['tokens_per_text']:.1f} | {share:.0f} % |"
        )
    lines += [
        "",
        "Model work as % of this machine's int8 matrix-multiply peak: the int8 operations of "
        f"the model's weight matrices ({results['ops_per_token'] / 1e6:.0f} M a token) times "
        "the real tokens scored per second, over the peak above. Padding, attention, "
        "tokenizing and the layers between the matrix multiplies are the rest.",
        "",
        *_cpu_per_analysis(http, raw),
        "## Where a form post's time goes (in-process, no model)",
        "",
        *request_profile.report_lines(results["profile"]),
        "",
        "## Ratios",
        "",
        "| ratio | value |",
        "|---|---:|",
    ]
    for name, value in results["ratios"].items():
        lines.append(f"| {name} | {value:.2f} |")
    lines += [
        "",
        "## Accuracy drift against PyTorch fp32",
        "",
        f"{results['drift_texts']} fixed texts (including two read in two windows), each scored "
        "alone; |Δ| of the sigmoid score per label.",
        "",
        "| runtime | label | max abs delta | mean abs delta |",
        "|---|---|---:|---:|",
    ]
    for runtime, labels in results["drift"].items():
        for label, (largest, mean) in labels.items():
            lines.append(f"| {runtime} | {label} | {largest:.5f} | {mean:.5f} |")
    lines += [
        "",
        "## Start-up and memory of one server process",
        "",
        "From starting the process to the first answer (Django set up, engine loaded, padding "
        "measured, one text scored): what a gunicorn worker does before it serves.",
        "",
        "| runtime | seconds to ready | RSS MB | torch imported |",
        "|---|---:|---:|---|",
    ]
    for runtime, start in results["startup"].items():
        lines.append(
            f"| {runtime} | {start['seconds']:.2f} | {start['rss_mb']:.0f} "
            f"| {'yes' if start['torch_imported'] else 'no'} |"
        )
    lines += ["", "## Targets (issue 13)", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, met in results["targets"]:
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Earlier targets (issue 7)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for target, measured, met in results["earlier_targets"]:
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    # The settings are explained once, in benchmarks/runtimes.md, and copied below the figures.
    return "\n".join(lines) + "\n\n" + (ROOT / "benchmarks" / "runtimes.md").read_text()


def ratios_of(results: dict) -> dict[str, float]:
    http: list[HttpRun] = results["http"]
    raw = results["raw"]
    ratios = {}

    def ratio(name: str, numerator: HttpRun | None, denominator: float | None) -> None:
        if numerator is not None and denominator:
            ratios[name] = numerator.analyses_per_second / denominator

    for corpus in ("short", "mixed"):
        plain = find(http, "optimized", "form", corpus, 16)
        ratio(
            f"form default / form without explanations (16 users, {corpus})",
            find(http, "optimized", "form-default", corpus, 16),
            plain.analyses_per_second if plain else None,
        )
        ratio(f"HTTP / engine alone (16 users, {corpus})", plain, raw[corpus]["served"])
    ratio(
        "HTTP, default form path / engine alone (16 users, short)",
        find(http, "optimized", "form-default", "short", 16),
        raw["short"]["served"],
    )
    api = find(http, "optimized", "api", "short", 16)
    ratio("API / engine alone (16 users, short)", api, raw["short"]["served"])
    ratio(
        "API with explain / API without (16 users, short)",
        find(http, "optimized", "api-explain", "short", 16),
        api.analyses_per_second if api else None,
    )
    for corpus, name in (("mixed", "optimized / naive (16 users)"), ("short", None)):
        naive = find(http, "naive", "form", corpus, 16)
        ratio(
            name or f"optimized / naive (16 users, {corpus})",
            find(http, "optimized", "form", corpus, 16),
            naive.analyses_per_second if naive else None,
        )
    return ratios


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """Return issue 13's targets, each a ratio of figures measured in this run."""
    ratios = results["ratios"]
    checks = []
    for name in ("13 words", "330 words"):
        latency = results["latency"][name]
        value = latency["default"] / latency["plain"]
        checks.append(
            (
                f"the default form post (explanations on) answers within 1.2x a post without "
                f"explanations ({name}, median)",
                f"{value:.2f}x",
                value <= 1.2,
            )
        )
    for name in ("330 words", "10,000 characters", "10,000 characters, no punctuation"):
        value = results["explain_cost"][name]["ratio"]
        checks.append(
            (
                f"an explanation's model work ≤ 2x the analysis's ({name})",
                f"{value:.2f}x",
                value <= 2,
            )
        )
    name = "form default / form without explanations (16 users, short)"
    if name in ratios:
        checks.append(
            (
                "16 users on the default path complete ≥ 80 % of the analyses/s without "
                "explanations (short)",
                f"{100 * ratios[name]:.0f} %",
                ratios[name] >= 0.8,
            )
        )
    name = "HTTP / engine alone (16 users, short)"
    if name in ratios:
        checks.append(
            (
                "HTTP (the form) ≥ 85 % of the engine alone, short comments, 16 users",
                f"{100 * ratios[name]:.0f} %",
                ratios[name] >= 0.85,
            )
        )
    return checks


def earlier_targets(results: dict) -> list[tuple[str, str, bool]]:
    """Return issue 7's targets, kept to see that nothing went back."""
    http: list[HttpRun] = results["http"]
    checks = []
    for corpus in ("short", "mixed"):
        run16 = find(http, "optimized", "form", corpus, 16)
        if run16:
            checks.append(
                (
                    f"≥ 55 analyses/s at 16 users, zero failures ({corpus})",
                    f"{run16.analyses_per_second:.1f}/s, {run16.failures} failures",
                    run16.analyses_per_second >= 55 and run16.failures == 0,
                )
            )
    for corpus in ("short", "mixed"):
        run4 = find(http, "optimized", "form", corpus, 4)
        if run4:
            checks.append(
                (f"p95 ≤ 200 ms at 4 users ({corpus})", f"{run4.p95:.0f} ms", run4.p95 <= 200)
            )
    for name in ("optimized / naive (16 users, short)", "optimized / naive (16 users)"):
        if name in results["ratios"]:
            value = results["ratios"][name]
            checks.append((f"{name} ≥ 5x", f"{value:.1f}x", value >= 5))
    worst = max(largest for largest, _mean in results["drift"]["onnx-int8"].values())
    checks.append(("max abs delta ≤ 0.02 vs torch fp32 (int8)", f"{worst:.4f}", worst <= 0.02))
    rss = max(max(run.rss_mb_per_worker, default=0) for run in http if run.server == "optimized")
    checks.append(("RSS ≤ 400 MB per serving worker", f"{rss:.0f} MB", rss <= 400))
    start = results["startup"]["onnx-int8"]["seconds"]
    checks.append(("start-up to ready ≤ 3 s (int8)", f"{start:.2f} s", start <= 3))
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=25, help="Length of each locust run.")
    parser.add_argument("--repeats", type=int, default=5, help="Posts per text, one user.")
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive baseline.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()

    import django

    # The in-process measurements build analyses, which read the label policies: they get a
    # database of their own, never the one `make run` serves (the served apps have theirs).
    data_dir = Path(tempfile.mkdtemp(prefix="toxmon-bench-data-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["TOXMON_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'toxmon.sqlite3'}"
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from benchmarks import explain_cost

    call_command("migrate", verbosity=0)

    began = time.monotonic()
    load_before = " ".join(f"{value:.1f}" for value in os.getloadavg())
    results: dict = {"seconds": arguments.seconds, "latency_repeats": arguments.repeats}
    log("The CPU and its int8 matrix-multiply peak ...")
    results["cpu"] = machine.cpu_report()
    model_folder, results["model"] = model_prepare(settings.TOXMON_MODEL_DIR)
    results["ops_per_token"] = machine.int8_ops_per_token(model_folder)
    log(f"Model: {results['model']}")

    log("Start-up and RSS of one server process per runtime ...")
    results["startup"] = {
        runtime: startup(model_folder, runtime) for runtime in ("onnx-int8", "onnx-fp32", "torch")
    }
    results["calibration"] = calibration(model_folder)
    log(f"Micro-batcher calibration: {results['calibration']}")
    log("What an explanation costs the model ...")
    results["explain_cost"] = explain_cost.explanation_costs(model_folder)
    results["agreement"] = explain_cost.coarse_to_fine_agreement(model_folder)
    log("Where a form post's time goes ...")
    results["profile"] = request_profile.form_post_profile()
    log("The engine alone ...")
    results["raw"] = engine_throughput(model_folder)
    log("Accuracy drift against torch fp32 ...")
    results["drift"] = accuracy_drift(model_folder)
    results["drift_texts"] = len(drift_texts())
    log("The default path, one user ...")
    results["latency"] = default_path_latency(model_folder, repeats=arguments.repeats)

    http = http_runs(
        "optimized", OPTIMIZED, model_folder, runs=OPTIMIZED_RUNS, seconds=arguments.seconds
    )
    if not arguments.no_naive:
        http += http_runs("naive", NAIVE, model_folder, runs=NAIVE_RUNS, seconds=arguments.seconds)
    results["http"] = http
    results["ratios"] = ratios_of(results)
    results["targets"] = targets(results)
    results["earlier_targets"] = earlier_targets(results)
    results["load_before"] = load_before
    results["load_after"] = " ".join(f"{value:.1f}" for value in os.getloadavg())
    results["minutes"] = (time.monotonic() - began) / 60
    results["finished"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    text = report(results)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(text)
    print()
    print(text)
    log(f"Written to {arguments.output}")


if __name__ == "__main__":
    main()
