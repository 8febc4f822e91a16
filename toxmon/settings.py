"""Settings for toxmon, read from the environment (see the settings table in README.md)."""

import os
import secrets
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
    "analyzer",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

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
# Requests per token: "<count>/<second|minute|hour>", counted in the database across workers.
TOXMON_API_RATE_LIMIT = os.environ.get("TOXMON_API_RATE_LIMIT", "60/minute")
TOXMON_API_MAX_TEXTS = 32
# Explanations (analyzer/explain.py) score each sentence alone, then remove words one at a time
# in the few sentences that score highest: at most this many sentences and this many copies of
# a text (words beyond are removed in groups). A sentence of more than FINE_WORDS words is
# removed by groups first, then word by word in the groups that matter.
TOXMON_EXPLAIN_MAX_SENTENCES = int(os.environ.get("TOXMON_EXPLAIN_MAX_SENTENCES", "2"))
TOXMON_EXPLAIN_MAX_SPANS = int(os.environ.get("TOXMON_EXPLAIN_MAX_SPANS", "64"))
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
# A running batch whose worker stored nothing for this long is resumed (or failed when it has
# stopped TOXMON_BATCH_MAX_ATTEMPTS times), so a killed worker never leaves it "running".
TOXMON_BATCH_STALL_SECONDS = int(os.environ.get("TOXMON_BATCH_STALL_SECONDS", "300"))
TOXMON_BATCH_MAX_ATTEMPTS = int(os.environ.get("TOXMON_BATCH_MAX_ATTEMPTS", "3"))

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
