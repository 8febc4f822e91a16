# syntax=docker/dockerfile:1
# toxmon: the Django app on gunicorn with CPU-only torch and the model weights baked in.
#   docker build -t toxmon .          (or `docker compose up -d --build`, see docs/docker.md)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- deps: the virtualenv, in its own layers so a code change does not reinstall torch -----------
FROM ${PYTHON_IMAGE} AS deps

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /build
# pip >= 25.1 understands `--group` (PEP 735 dependency groups in pyproject.toml).
RUN python -m venv /opt/venv \
    && pip install pip==26.3
# The CPU wheel from PyTorch's own index first: PyPI's torch pulls several GB of CUDA libraries.
# The serve group's torch==2.13.0 is then already satisfied by 2.13.0+cpu.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml ./
# Every package of the group is pinned with == in pyproject.toml; hadolint cannot see inside it.
# hadolint ignore=DL3013
RUN pip install --group serve

# --- build: the weights and the static files, made once here, copied into the runtime ------------
FROM deps AS build

ARG TOXMON_MODEL=unitary/toxic-bert
ENV TOXMON_MODEL=${TOXMON_MODEL} \
    TOXMON_MODEL_DIR=/app/models \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    TOXMON_DATA_DIR=/tmp/toxmon-build-data

WORKDIR /app
COPY manage.py gunicorn.conf.py ./
COPY toxmon/ toxmon/
COPY analyzer/ analyzer/
COPY templates/ templates/
COPY static/ static/
# Settings refuse to load without a secret key; these two commands never serve a request.
RUN DJANGO_SECRET_KEY=build-only-never-serves python manage.py fetch_model \
    && DJANGO_SECRET_KEY=build-only-never-serves python manage.py collectstatic --noinput

# --- runtime -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG TOXMON_MODEL=unitary/toxic-bert
# The container never reaches a model hub: the weights are in the image and a missing or broken
# model stops start-up instead of silently serving the fallback engine.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    XDG_CACHE_HOME=/tmp/cache \
    TOXMON_MODEL=${TOXMON_MODEL} \
    TOXMON_MODEL_DIR=/app/models \
    TOXMON_REQUIRE_MODEL=1 \
    TOXMON_DATA_DIR=/app/data \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    GUNICORN_BIND=0.0.0.0:8000

RUN groupadd --system --gid 10001 toxmon \
    && useradd --system --uid 10001 --gid toxmon --home-dir /app --shell /usr/sbin/nologin toxmon

WORKDIR /app
COPY --from=deps /opt/venv /opt/venv
COPY --from=build /app/models /app/models
COPY --from=build /app/staticfiles /app/staticfiles
COPY manage.py gunicorn.conf.py ./
COPY toxmon/ toxmon/
COPY analyzer/ analyzer/
COPY templates/ templates/
COPY static/ static/
COPY docker/entrypoint.sh docker/healthcheck.py docker/
# Only the data folder is writable by the app; code, weights and static files stay root-owned.
RUN mkdir -p /app/data && chown toxmon:toxmon /app/data

# Numeric, so platforms that enforce a non-root user (runAsNonRoot) can verify it.
USER 10001:10001
EXPOSE 8000
# The model takes a while to load, hence the long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "toxmon.wsgi"]
