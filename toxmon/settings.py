"""Settings for toxmon, read from the environment (see the settings table in README.md)."""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from analyzer.engines.runtime import AUTO, CONFIGURABLE_RUNTIMES

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """Return a rate like "30/minute" from the environment; stop start-up on a malformed one."""
    value = os.environ.get(name, default).strip()
    if not re.fullmatch(r"[1-9]\d*/(second|minute|hour|day)", value):
        raise ImproperlyConfigured(
            f'{name} must look like "30/minute": a count per second, minute, hour or day.'
        )
    return value


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A guessable key lets anyone forge sessions and admin logins, so refuse to start.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(`make run` creates one for local use in data/secret_key)."
        )
    # Debug only: a key per process, so there is still no secret written in the code.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

DATA_DIR = Path(os.environ.get("TOXMON_DATA_DIR", BASE_DIR / "data"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prometheus",
    "axes",
    "analyzer",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: an oversized one is refused unread.
    "analyzer.middleware.body_size.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "analyzer.middleware.database_busy.DatabaseBusyMiddleware",
    # Last but the metrics, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "toxmon.urls"
WSGI_APPLICATION = "toxmon.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "analyzer.context_processors.engine",
                "analyzer.context_processors.retention",
                "analyzer.context_processors.links",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'toxmon.sqlite3'}",
        conn_max_age=600,
        conn_health_checks=True,
    )
}
# django-prometheus counts ORM queries when the database goes through its wrapper backends.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)
# SQLite set up for a server (docs/database.md): readers never block the writer (WAL); a commit
# is durable at the next checkpoint, not at every fsync (synchronous=NORMAL, safe with WAL);
# every transaction takes the write lock when it begins (IMMEDIATE), so two transactions never
# deadlock upgrading a read to a write; and a writer waits this long for the lock before it gives
# up. Applied to every connection of every process: web workers, the db worker, commands.
TOXMON_DB_BUSY_TIMEOUT = float(os.environ.get("TOXMON_DB_BUSY_TIMEOUT", "20"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "timeout": TOXMON_DB_BUSY_TIMEOUT,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Request limits: the form refuses long text itself; these stop oversized posts earlier.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

# Security headers. HTTPS-only settings switch on with DJANGO_SECURE_SSL=1 behind TLS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL = env_bool("DJANGO_SECURE_SSL")
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL else None
# Health checks and Prometheus talk plain HTTP to the app itself, inside the host or the compose
# network; a redirect to https would fail them. /metrics still checks its client (and token).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Every script and style is a static file, so the policy needs no 'unsafe-inline'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# The rate limits count in this cache, so it must be shared by every worker and replica: a table
# of the database by default (`manage.py createcachetable` makes it where migrations run), Redis
# when TOXMON_CACHE_URL names one (redis://host:6379/0), which counts exactly under any load.
TOXMON_CACHE_URL = os.environ.get("TOXMON_CACHE_URL", "").strip()
if not TOXMON_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "analyzer.cache.DatabaseCache",
            "LOCATION": "toxmon_cache",
        }
    }
elif TOXMON_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TOXMON_CACHE_URL,
        }
    }
else:
    raise ImproperlyConfigured("TOXMON_CACHE_URL must be a redis:// or rediss:// URL, or empty.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TOXMON_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": "INFO"}},
}

# toxmon's own settings.
TOXMON_MODEL = os.environ.get("TOXMON_MODEL", "unitary/toxic-bert")
TOXMON_MODEL_DIR = Path(os.environ.get("TOXMON_MODEL_DIR", BASE_DIR / "models"))
TOXMON_REQUIRE_MODEL = env_bool("TOXMON_REQUIRE_MODEL")
TOXMON_THRESHOLD = float(os.environ.get("TOXMON_THRESHOLD", "0.5"))
if not 0.0 < TOXMON_THRESHOLD <= 1.0:
    raise ImproperlyConfigured("TOXMON_THRESHOLD must be in (0, 1].")
TOXMON_MAX_CHARS = int(os.environ.get("TOXMON_MAX_CHARS", "10000"))

# Monitoring (docs/monitoring.md). /metrics answers only these client addresses or networks;
# everyone else gets 403. Prometheus must scrape the app directly, not through a proxy.
TOXMON_METRICS_ALLOWED_IPS = env_list("TOXMON_METRICS_ALLOWED_IPS", "127.0.0.1,::1")
# gunicorn's workers add up their metrics through files in PROMETHEUS_MULTIPROC_DIR
# (gunicorn.conf.py). Any other process (manage.py, the test runner) keeps its metrics in memory,
# so a command run beside the server neither fails on a missing directory nor adds its own
# counts to the server's. gunicorn's master sets SERVER_SOFTWARE for its workers, and this runs
# before django_prometheus imports prometheus_client, which reads the variable once.
if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

# API, explanations and batches (docs/api.md).
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
# Batches run in `manage.py db_worker`, which takes queued tasks from the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Texts per token: "<count>/<second|minute|hour>", counted in the database across workers; a
# request of 32 texts counts 32.
TOXMON_API_RATE_LIMIT = os.environ.get("TOXMON_API_RATE_LIMIT", "300/minute")
TOXMON_API_MAX_TEXTS = 32
# Explanations (analyzer/explain.py) score each sentence alone, then remove words one at a time
# in the few sentences that score highest: at most this many sentences and this many copies of
# a text (words beyond are removed in groups). A sentence of more than FINE_WORDS words is
# removed by groups first, then word by word in the groups that matter.
TOXMON_EXPLAIN_MAX_SENTENCES = int(os.environ.get("TOXMON_EXPLAIN_MAX_SENTENCES", "2"))
TOXMON_EXPLAIN_MAX_SPANS = int(os.environ.get("TOXMON_EXPLAIN_MAX_SPANS", "64"))
# Anonymous form posts get fewer copies than staff, logged-in users and API tokens, so an
# anonymous long text costs a few model calls, not dozens.
TOXMON_EXPLAIN_MAX_SPANS_ANONYMOUS = int(os.environ.get("TOXMON_EXPLAIN_MAX_SPANS_ANONYMOUS", "16"))
TOXMON_EXPLAIN_FINE_WORDS = int(os.environ.get("TOXMON_EXPLAIN_FINE_WORDS", "8"))
# Explanations run only while no analysis waits for the model; one that the model did not serve
# for this long gives up and says the server is busy, instead of holding a worker's thread.
TOXMON_EXPLAIN_WAIT_MS = float(os.environ.get("TOXMON_EXPLAIN_WAIT_MS", "500"))
# And an explanation is declined at once while the model was busy more than this share of the
# last second and analyses had to wait for it: it would only take the model from the next verdicts.
TOXMON_EXPLAIN_BUSY_SHARE = float(os.environ.get("TOXMON_EXPLAIN_BUSY_SHARE", "0.8"))
# The results page links to its explanation with a signed token that expires after this long,
# so only the client that just made an analysis can have it explained.
TOXMON_EXPLAIN_LINK_SECONDS = int(os.environ.get("TOXMON_EXPLAIN_LINK_SECONDS", "3600"))
TOXMON_BATCH_MAX_TEXTS = int(os.environ.get("TOXMON_BATCH_MAX_TEXTS", "10000"))
TOXMON_BATCH_MAX_BYTES = int(os.environ.get("TOXMON_BATCH_MAX_BYTES", str(20 * 1024 * 1024)))
# A running batch whose worker reported nothing for this long is resumed (or failed when it has
# been tried TOXMON_BATCH_MAX_ATTEMPTS times), so a killed worker never leaves it "running".
TOXMON_BATCH_STALL_SECONDS = int(os.environ.get("TOXMON_BATCH_STALL_SECONDS", "300"))
TOXMON_BATCH_MAX_ATTEMPTS = int(os.environ.get("TOXMON_BATCH_MAX_ATTEMPTS", "3"))
# How often the db worker's watchdog looks for batches that nothing runs (a failed or vanished
# task, a silent worker) and queues them again.
TOXMON_BATCH_WATCH_SECONDS = float(os.environ.get("TOXMON_BATCH_WATCH_SECONDS", "15"))

# Serving speed (docs/benchmark.md). The runtime that scores texts: "auto" serves the int8 ONNX
# export when `fetch_model` made one and PyTorch otherwise; "onnx-fp32" gives PyTorch's scores
# exactly; "torch" is the reference path.
TOXMON_RUNTIME = os.environ.get("TOXMON_RUNTIME", AUTO).strip().lower() or AUTO
if TOXMON_RUNTIME not in {AUTO, *CONFIGURABLE_RUNTIMES}:
    raise ImproperlyConfigured(
        f"TOXMON_RUNTIME must be one of {', '.join([AUTO, *CONFIGURABLE_RUNTIMES])}."
    )
# Concurrent requests of one worker are scored together: up to this many texts, this many padded
# tokens, gathered for at most this many milliseconds. TOXMON_MICROBATCH=0 scores one at a time.
TOXMON_MICROBATCH = env_bool("TOXMON_MICROBATCH", default=True)
TOXMON_MICROBATCH_MAX_TEXTS = int(os.environ.get("TOXMON_MICROBATCH_MAX_TEXTS", "8"))
TOXMON_MICROBATCH_MAX_TOKENS = int(os.environ.get("TOXMON_MICROBATCH_MAX_TOKENS", "512"))
TOXMON_MICROBATCH_WAIT_MS = float(os.environ.get("TOXMON_MICROBATCH_WAIT_MS", "2"))
# Most padding tokens a text may add to a batch. Unset: measured at start-up from what a model
# call and a token cost on this machine (a few warm-up calls), logged and exported as a metric.
TOXMON_MICROBATCH_MAX_PADDING = (
    int(os.environ["TOXMON_MICROBATCH_MAX_PADDING"])
    if os.environ.get("TOXMON_MICROBATCH_MAX_PADDING", "").strip()
    else None
)
# Threads one model call may use; 0 means one per core. gunicorn.conf.py sets it to the cores
# divided by the workers, so the workers do not fight over the cores.
TOXMON_INTRA_OP_THREADS = int(os.environ.get("TOXMON_INTRA_OP_THREADS") or "0")

# Limits that keep one client from taking the service down (README, "Limits").
# Bodies over these are refused with 413 before they are read, per route. The form's default
# fits TOXMON_MAX_CHARS of the widest characters, percent-encoded (12 bytes each), with room.
TOXMON_FORM_MAX_BYTES = int(
    os.environ.get("TOXMON_FORM_MAX_BYTES") or str(12 * TOXMON_MAX_CHARS + 64 * 1024)
)
TOXMON_API_MAX_BYTES = int(os.environ.get("TOXMON_API_MAX_BYTES", str(1024 * 1024)))
TOXMON_ADMIN_MAX_BYTES = int(os.environ.get("TOXMON_ADMIN_MAX_BYTES", str(1024 * 1024)))
# The API reads its JSON body through Django, which must not refuse what the route allows.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    DATA_UPLOAD_MAX_MEMORY_SIZE, TOXMON_FORM_MAX_BYTES, TOXMON_API_MAX_BYTES
)
# Proxies (addresses or networks) whose X-Forwarded-For is believed when telling clients apart;
# with none, a client is its own address (REMOTE_ADDR) whatever headers it sends.
TOXMON_TRUSTED_PROXIES = env_list("TOXMON_TRUSTED_PROXIES", "")
# Posts per client address: "<count>/<second|minute|hour|day>", shared by all workers (CACHES).
TOXMON_FORM_RATE_LIMIT = env_rate("TOXMON_FORM_RATE_LIMIT", "30/minute")
TOXMON_BATCH_RATE_LIMIT = env_rate("TOXMON_BATCH_RATE_LIMIT", "10/hour")
RATELIMIT_USE_CACHE = "default"
# Model work (in 512-token windows, estimated from the text) one web worker takes on at once,
# over all its threads; a request that would go over answers 503 with Retry-After.
TOXMON_WORKER_MAX_WINDOWS = int(os.environ.get("TOXMON_WORKER_MAX_WINDOWS", "128"))
# Batch upload needs a login unless TOXMON_BATCH_PUBLIC=1; each user may have this many
# batches queued or running, and the whole service this many.
TOXMON_BATCH_PUBLIC = env_bool("TOXMON_BATCH_PUBLIC")
TOXMON_BATCH_MAX_UNFINISHED_PER_USER = int(
    os.environ.get("TOXMON_BATCH_MAX_UNFINISHED_PER_USER", "2")
)
TOXMON_BATCH_MAX_UNFINISHED = int(os.environ.get("TOXMON_BATCH_MAX_UNFINISHED", "20"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "analyzer:batch_upload"
LOGOUT_REDIRECT_URL = "analyzer:analyze"
# /metrics may also ask for `Authorization: Bearer <token>`: empty means no token is needed.
TOXMON_METRICS_TOKEN = os.environ.get("TOXMON_METRICS_TOKEN", "").strip()
# Stored texts older than this many days are deleted daily by the task worker; empty keeps them.
TOXMON_RETENTION_DAYS = int(os.environ.get("TOXMON_RETENTION_DAYS") or "0") or None

# Logins (admin and the app's) are throttled by django-axes: after this many failures for one
# user name from one address, that pair is locked out for the cool-off time.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("TOXMON_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("TOXMON_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "analyzer.rate_limits.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Moderation (docs/moderation.md): label policies with their history, reviews, calibration and
# webhooks. A label's thresholds start at TOXMON_THRESHOLD; admin changes them from there.
INSTALLED_APPS += ["simple_history"]
# The address people reach the app at, for the links in webhook bodies.
TOXMON_BASE_URL = os.environ.get("TOXMON_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Reviews of a label below which the calibration report suggests nothing (a quarter of them at
# least must have found the label right, and a quarter wrong).
TOXMON_CALIBRATION_MIN_REVIEWS = int(os.environ.get("TOXMON_CALIBRATION_MIN_REVIEWS", "20"))
# A receiver that has not answered within this many seconds has failed this attempt.
TOXMON_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("TOXMON_WEBHOOK_TIMEOUT_SECONDS", "5"))
# Attempts per delivery; between them the wait doubles from TOXMON_WEBHOOK_BACKOFF_SECONDS.
TOXMON_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("TOXMON_WEBHOOK_MAX_ATTEMPTS", "5"))
TOXMON_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("TOXMON_WEBHOOK_BACKOFF_SECONDS", "30"))
