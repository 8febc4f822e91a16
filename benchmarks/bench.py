"""How fast toxmon serves toxic-bert on this machine: `make bench` (a benchmark, not a test).

Serves the app under gunicorn with a full-size model (toxic-bert's real weights when
`fetch_model` put them in TOXMON_MODEL_DIR, otherwise BERT-base in toxic-bert's shape with random
weights: speed does not depend on weight values), drives the form with locust, and measures the
engine alone in-process, the naive baseline (PyTorch, one text per call) through the same HTTP
path, the accuracy drift of the fast runtimes against PyTorch fp32, and start-up time and memory.
Prints the results and writes them to docs/benchmark.md.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from benchmarks.corpus import corpus_texts, drift_texts, short_texts  # noqa: E402
from tests.serving import app_env, served_app  # noqa: E402

REAL_MODEL = "unitary/toxic-bert"
RANDOM_MODEL_FOLDER = "toxic-bert-shaped-base-random"
RESULTS = ROOT / "docs" / "benchmark.md"
LEVELS = (1, 4, 16, 32)
NAIVE_LEVELS = (1, 4, 16)
# The server as gunicorn.conf.py configures it by default, and as it was before this work.
OPTIMIZED = {"workers": os.cpu_count() or 1, "threads": 8, "env": {"TOXMON_RUNTIME": "onnx-int8"}}
NAIVE = {
    "workers": 2,
    "threads": 2,
    "env": {"TOXMON_RUNTIME": "torch", "TOXMON_MICROBATCH": "0", "TOXMON_INTRA_OP_THREADS": "0"},
}


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
        which = (
            f"BERT-base in toxic-bert's shape with **random weights** (the real `{REAL_MODEL}` "
            f"weights are not in {model_dir}); speed does not depend on weight values, but the "
            "drift figures are for random weights. Its 30,522 word pieces are trained on "
            "wordfreq's English words, so token counts and memory are the real model's"
        )
        config = folder / "config.json"
        # Folders built before the factory trained a real-sized vocabulary are built again.
        if not config.is_file() or json.loads(config.read_text())["vocab_size"] != 30522:
            import shutil

            from tests.model_factory import build_bert

            log(f"Building BERT-base with random weights in {folder} ...")
            shutil.rmtree(folder, ignore_errors=True)
            build_bert(folder, size="base")
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


def locust_run(url: str, *, users: int, seconds: int, corpus: str, workdir: Path) -> dict:
    """Drive url with locust for `seconds`; return the stats row of the form posts."""
    prefix = workdir / f"locust-{corpus}-{users}"
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
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_CORPUS": corpus}
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
        raise RuntimeError(f"locust made no form posts: {stderr[-2000:]}")
    row = rows["analyze"]
    row["locust_cpu_percent"] = 100 * (cpu - cpu_before) / (time.monotonic() - started)
    return row


def http_levels(
    name: str,
    server: dict,
    model_folder: Path,
    *,
    levels: Sequence[int],
    seconds: int,
    corpora: Callable[[int], Sequence[str]] = lambda users: ("mixed",),
) -> list[HttpRun]:
    """Serve the app as `server` says and run locust at each level of users."""
    runs = []
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
            # One pass through the path so every worker has run the model before measuring.
            locust_run(app.url, users=2, seconds=3, corpus="short", workdir=workdir)
            for users in levels:
                for corpus in corpora(users):
                    with usage_of(app.process.pid) as usage:
                        row = locust_run(
                            app.url, users=users, seconds=seconds, corpus=corpus, workdir=workdir
                        )
                    run = HttpRun(
                        server=name,
                        corpus=corpus,
                        users=users,
                        analyses_per_second=float(row["Requests/s"]),
                        p50=float(row["50%"]),
                        p95=float(row["95%"]),
                        p99=float(row["99%"]),
                        requests=int(row["Request Count"]),
                        failures=int(row["Failure Count"]),
                        cpu_percent=usage.cpu_percent,
                        locust_cpu_percent=row["locust_cpu_percent"],
                        rss_mb_per_worker=usage.rss_mb_per_worker,
                    )
                    log(
                        f"{name} {corpus} {users:>2} users: {run.analyses_per_second:.1f}/s "
                        f"p50 {run.p50:.0f} p95 {run.p95:.0f} p99 {run.p99:.0f} ms, "
                        f"{run.failures} failures, CPU {run.cpu_percent:.0f} %"
                    )
                    runs.append(run)
    return runs


def subprocess_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
        return response.read().decode()


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


def _served_worker(
    folder: Path, texts: Sequence[str], intra_op_threads: int, threads: int, start_at: float
) -> tuple[float, float, float, list[int]]:
    """Run in its own process like a gunicorn worker: return start, end, CPU seconds and batch
    sizes."""
    import django

    django.setup()
    from django.conf import settings

    from analyzer.engines.base import BatchLimits
    from analyzer.engines.onnx_engine import OnnxEngine

    limits = BatchLimits(
        max_texts=settings.TOXMON_MICROBATCH_MAX_TEXTS,
        max_tokens=settings.TOXMON_MICROBATCH_MAX_TOKENS,
        max_wait_seconds=settings.TOXMON_MICROBATCH_WAIT_MS / 1000,
    )
    engine = OnnxEngine(
        folder, model="bench", runtime="onnx-int8", intra_op_threads=intra_op_threads, batch=limits
    )
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
    start_at = time.time() + 15
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
    """Texts/s of the int8 engine on the first texts of each corpus, with no HTTP in between:
    in one process one text per call and from concurrent callers through the micro-batcher,
    and laid out as the optimized server is (one process per worker)."""
    from django.conf import settings

    from analyzer.engines.base import BatchLimits
    from analyzer.engines.onnx_engine import OnnxEngine
    from analyzer.engines.onnx_layout import onnx_folder

    cores = os.cpu_count() or 1
    folder = onnx_folder(model_folder)
    plain = OnnxEngine(folder, model="bench", runtime="onnx-int8", intra_op_threads=cores)
    limits = BatchLimits(
        max_texts=settings.TOXMON_MICROBATCH_MAX_TEXTS,
        max_tokens=settings.TOXMON_MICROBATCH_MAX_TOKENS,
        max_wait_seconds=settings.TOXMON_MICROBATCH_WAIT_MS / 1000,
    )
    results = {}
    for corpus, texts in (("mixed", corpus_texts()), ("short", short_texts())):
        texts = texts[:RAW_TEXTS]
        batched = OnnxEngine(
            folder, model="bench", runtime="onnx-int8", intra_op_threads=cores, batch=limits
        )
        plain.predict(texts[:2])
        batched.predict(texts[:2])
        batched.batcher.batch_sizes.clear()

        started = time.monotonic()
        for text in texts:
            plain.predict([text])
        one_at_a_time = len(texts) / (time.monotonic() - started)
        concurrent = len(texts) / _callers_run(batched, texts, threads)
        sizes = list(batched.batcher.batch_sizes)
        served = served_layout_throughput(folder, texts, callers=threads)
        results[corpus] = {
            "one_at_a_time": one_at_a_time,
            "batched": concurrent,
            "served": served["texts_per_second"],
            "served_mean_batch": served["mean_batch"],
            "served_cpu_ms_per_text": served["cpu_ms_per_text"],
            "best": max(one_at_a_time, concurrent, served["texts_per_second"]),
            "mean_batch": statistics.mean(sizes) if sizes else 0.0,
        }
        log(f"Engine alone, {corpus}: {results[corpus]}")
    layout = f"{served['workers']} processes x {served['intra_op_threads']} intra-op thread(s)"
    return {"threads": threads, "layout": layout, **results}


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


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True)  # noqa: S607
        for line in lscpu.stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except FileNotFoundError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Linux {platform.release()}"


def _cpu_per_analysis(http: list[HttpRun], raw: dict) -> list[str]:
    """Say where the CPU of one analysis goes: the model, measured alone, and the rest."""
    items = []
    for corpus in ("short", "mixed"):
        run = next(
            (
                run
                for run in http
                if (run.server, run.corpus, run.users) == ("optimized", corpus, 16)
            ),
            None,
        )
        if run is None or not run.analyses_per_second:
            continue
        server_ms = 10 * run.cpu_percent / run.analyses_per_second
        model_ms = raw[corpus]["served_cpu_ms_per_text"]
        items.append(
            f"- *{corpus}*, 16 users: the server spends {server_ms:.0f} ms of CPU per analysis; "
            f"the model alone in the same layout {model_ms:.0f} ms of CPU per text. The rest, "
            f"about {server_ms - model_ms:.0f} ms, is Django, the form, the database and the page."
        )
    if not items:
        return []
    return ["Where the CPU of one analysis goes (the cores are busy at 16 users):", "", *items, ""]


def report(results: dict) -> str:
    http: list[HttpRun] = results["http"]
    lines = [
        "# Benchmark",
        "",
        f"Written by `make bench` ({results['finished']}, {results['minutes']:.1f} min).",
        "",
        f"- **Machine:** {results['machine']}. Load average before / after the run: "
        f"{results['load_before']} / {results['load_after']}. The cores are shared with other "
        "work, and locust runs on the same cores as the server (its CPU is shown), so the "
        "figures are noisy and on the low side.",
        f"- **Model:** {results['model']}.",
        f"- **Optimized server:** ONNX Runtime int8 (fused graph), micro-batching on, "
        f"gunicorn {OPTIMIZED['workers']} workers x {OPTIMIZED['threads']} threads, "
        "intra-op threads = cores / workers, inter-op 1.",
        f"- **Naive server:** PyTorch fp32, one text per model call, no batching, gunicorn "
        f"{NAIVE['workers']} workers x {NAIVE['threads']} threads, torch's default threads (the "
        "set-up before this work).",
        f"- **Load:** locust, each user posts the form (`POST /` with the CSRF token, 200 HTML) "
        f"without pause for {results['seconds']} s per level. *mixed* corpus: 400 fixed comments, "
        "90 % of 10-40 tokens and 10 % of 100-500; *short*: comments of about 15 tokens (the "
        "issue's target length).",
        "",
        "## Through HTTP",
        "",
        "| server | corpus | users | analyses/s | p50 ms | p95 ms | p99 ms | failures "
        "| server CPU | locust CPU | RSS per worker MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in http:
        lines.append(
            f"| {run.server} | {run.corpus} | {run.users} | {run.analyses_per_second:.1f} "
            f"| {run.p50:.0f} | {run.p95:.0f} | {run.p99:.0f} | {run.failures}/{run.requests} "
            f"| {run.cpu_percent:.0f} % | {run.locust_cpu_percent:.0f} % "
            f"| {', '.join(f'{rss:.0f}' for rss in run.rss_mb_per_worker)} |"
        )
    raw = results["raw"]
    lines += [
        "",
        "CPU is the server's (master and workers) in % of one core; the machine has "
        f"{os.cpu_count()} cores.",
        "",
        "## The engine alone (in-process, no HTTP)",
        "",
        f"The int8 engine on the first {RAW_TEXTS} texts of each corpus. In one process with "
        "intra-op threads = cores, and laid out as the optimized server is "
        f"({raw['layout']}, the {raw['threads']} callers split between them), which is what "
        "HTTP is compared with.",
        "",
        "| corpus | one process, one text per call, texts/s "
        f"| one process, {raw['threads']} callers through the micro-batcher, texts/s | mean batch "
        f"| {raw['layout']}, texts/s | mean batch |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {corpus} | {raw[corpus]['one_at_a_time']:.1f} | {raw[corpus]['batched']:.1f} "
            f"| {raw[corpus]['mean_batch']:.1f} | {raw[corpus]['served']:.1f} "
            f"| {raw[corpus]['served_mean_batch']:.1f} |"
            for corpus in ("mixed", "short")
        ),
        "",
        *_cpu_per_analysis(http, raw),
        "## Ratios",
        "",
        "| ratio | value |",
        "|---|---:|",
    ]
    for name, value in results["ratios"].items():
        lines.append(f"| {name} | {value:.2f} |")
    lines += [
        "",
        "HTTP / engine alone compares runs made minutes apart on shared cores; a value over 1 "
        "means the machine's noise is larger than what the HTTP path costs.",
    ]
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
        "From starting the process to the first answer (Django set up, engine loaded, one text "
        "scored): what a gunicorn worker does before it serves.",
        "",
        "| runtime | seconds to ready | RSS MB | torch imported |",
        "|---|---:|---:|---|",
    ]
    for runtime, start in results["startup"].items():
        lines.append(
            f"| {runtime} | {start['seconds']:.2f} | {start['rss_mb']:.0f} "
            f"| {'yes' if start['torch_imported'] else 'no'} |"
        )
    lines += ["", "## Targets (issue 7)", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, met in results["targets"]:
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    # The settings are explained once, in benchmarks/runtimes.md, and copied below the figures.
    return "\n".join(lines) + "\n\n" + (ROOT / "benchmarks" / "runtimes.md").read_text()


def targets(results: dict) -> list[tuple[str, str, bool]]:
    http: list[HttpRun] = results["http"]

    def find(server: str, corpus: str, users: int) -> HttpRun | None:
        for run in http:
            if (run.server, run.corpus, run.users) == (server, corpus, users):
                return run
        return None

    checks = []
    for corpus in ("short", "mixed"):
        run16 = find("optimized", corpus, 16)
        if run16:
            checks.append(
                (
                    f"≥ 55 analyses/s at 16 users, zero failures ({corpus})",
                    f"{run16.analyses_per_second:.1f}/s, {run16.failures} failures",
                    run16.analyses_per_second >= 55 and run16.failures == 0,
                )
            )
    for corpus in ("short", "mixed"):
        run4 = find("optimized", corpus, 4)
        if run4:
            checks.append(
                (f"p95 ≤ 200 ms at 4 users ({corpus})", f"{run4.p95:.0f} ms", run4.p95 <= 200)
            )
    ratios = results["ratios"]
    for corpus in ("short", "mixed"):
        name = f"HTTP / engine alone (16 users, {corpus})"
        if name in ratios:
            value = ratios[name]
            checks.append(
                (f"HTTP ≥ 80 % of the raw engine ({corpus})", f"{100 * value:.0f} %", value >= 0.8)
            )
    for name in ("optimized / naive (16 users, short)", "optimized / naive (16 users)"):
        if name in ratios:
            value = ratios[name]
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
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive baseline.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    began = time.monotonic()
    load_before = " ".join(f"{value:.1f}" for value in os.getloadavg())
    results: dict = {"machine": machine(), "seconds": arguments.seconds}
    model_folder, results["model"] = model_prepare(settings.TOXMON_MODEL_DIR)
    log(f"Model: {results['model']}")

    log("Start-up and RSS of one server process per runtime ...")
    results["startup"] = {
        runtime: startup(model_folder, runtime) for runtime in ("onnx-int8", "onnx-fp32", "torch")
    }
    log("The engine alone ...")
    results["raw"] = engine_throughput(model_folder)
    log("Accuracy drift against torch fp32 ...")
    results["drift"] = accuracy_drift(model_folder)
    results["drift_texts"] = len(drift_texts())

    http = http_levels(
        "optimized",
        OPTIMIZED,
        model_folder,
        levels=LEVELS,
        seconds=arguments.seconds,
        corpora=lambda users: ("mixed", "short") if users in (4, 16) else ("mixed",),
    )
    if not arguments.no_naive:
        http += http_levels(
            "naive",
            NAIVE,
            model_folder,
            levels=NAIVE_LEVELS,
            seconds=arguments.seconds,
            corpora=lambda users: ("mixed", "short") if users == 16 else ("mixed",),
        )
    results["http"] = http

    by_key = {(run.server, run.corpus, run.users): run for run in http}
    ratios = {}
    optimized16 = by_key.get(("optimized", "mixed", 16))
    naive16 = by_key.get(("naive", "mixed", 16))
    if optimized16 and naive16 and naive16.analyses_per_second:
        ratios["optimized / naive (16 users)"] = (
            optimized16.analyses_per_second / naive16.analyses_per_second
        )
    short16, naive_short16 = (
        by_key.get(("optimized", "short", 16)),
        by_key.get(("naive", "short", 16)),
    )
    if short16 and naive_short16 and naive_short16.analyses_per_second:
        ratios["optimized / naive (16 users, short)"] = (
            short16.analyses_per_second / naive_short16.analyses_per_second
        )
    for corpus in ("mixed", "short"):
        run = by_key.get(("optimized", corpus, 16))
        if run:
            ratios[f"HTTP / engine alone (16 users, {corpus})"] = (
                run.analyses_per_second / results["raw"][corpus]["best"]
            )
    results["ratios"] = ratios
    results["targets"] = targets(results)
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
