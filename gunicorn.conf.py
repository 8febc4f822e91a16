"""gunicorn settings for toxmon, each overridable from the environment.

Read by `make run`, the Docker entrypoint and the tests that serve the app.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One worker per core, each model call on one thread: on 2 cores this served a fifth more than
# one worker whose calls used both cores (docs/benchmark.md), since no call waits for a second
# thread and one worker's Django work fills the gaps of the other's model. Each worker's
# micro-batcher gathers the requests of its threads, which mostly wait for it.
workers = int(os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Each model call may use the cores this worker's share of the machine has, no more: workers
# that each took every core would fight over them. Inter-op threads are fixed at 1 by the engine.
if not os.environ.get("TOXMON_INTRA_OP_THREADS"):
    os.environ["TOXMON_INTRA_OP_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
# Loading the model takes seconds; a worker that answers nothing for this long is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Each worker loads its own copy of the model after the fork: torch's thread pools do not
# survive a fork, so the app is not preloaded in the master.
preload_app = False
# gunicorn 27's control socket has one fixed path per user, so two servers on one machine
# (tests, a benchmark beside `make run`) would take it from each other; nothing here uses it.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# Every worker writes its metrics to files in this directory and /metrics adds them up.
# It must be set before prometheus_client is imported anywhere, hence here at the top.
# toxmon/settings.py drops the variable in every process that is not a gunicorn worker.
METRICS_DIR_IS_TEMPORARY = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if METRICS_DIR_IS_TEMPORARY:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="toxmon-metrics-")
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server):
    """Empty the metrics directory: files left by an earlier run would be added to this one."""
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    METRICS_DIR.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Drop the live gauges of a worker that exited."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this run made up; a configured one is emptied next start."""
    if METRICS_DIR_IS_TEMPORARY:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
