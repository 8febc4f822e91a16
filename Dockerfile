# syntax=docker/dockerfile:1
# toxmon: the Django app on gunicorn, serving the model's ONNX export, weights baked in.
#   docker build -t toxmon .          (or `docker compose up -d --build`, see docs/docker.md)
# Build arguments:
#   TOXMON_MODEL  the model's hub id, fetched at build time; or, with a model folder given as
#                 the `model` build context, the name it is served under:
#                   docker build --build-context model=models/x --build-arg TOXMON_MODEL=x .
#   TOXMON_TORCH  1 keeps torch and transformers in the image, for TOXMON_RUNTIME=torch

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

# --- model: empty unless `--build-context model=DIR` replaces it with a model folder ----------
FROM scratch AS model

# --- build: the weights, their ONNX export and the static files, copied into the runtime ------
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
COPY --from=model / /tmp/model/
# A given model folder goes where fetch_model keeps a fetched model of that name
# (TOXMON_MODEL_DIR/<name with / as -->), so fetch_model only exports it and the runtime finds
# it by the same TOXMON_MODEL. Weights may arrive owner-only (0600); the app does not run as
# their owner. Settings refuse to load without a secret key; these commands serve no request.
RUN export DJANGO_SECRET_KEY=build-only-never-serves \
    && if [ -f /tmp/model/config.json ]; then \
        name=$(python -c 'import os; print(os.environ["TOXMON_MODEL"].replace("/", "--"))') \
        && mkdir -p "$TOXMON_MODEL_DIR" \
        && cp -R /tmp/model "$TOXMON_MODEL_DIR/$name"; \
    fi \
    && python manage.py fetch_model \
    && chmod -R a+rX "$TOXMON_MODEL_DIR" \
    && python manage.py collectstatic --noinput

# --- venv: the server's packages. It serves the ONNX export, so torch, transformers and onnx,
# needed above to export, stay out (and sympy, mpmath, networkx, which only torch needs): the
# image is a gigabyte smaller. TOXMON_TORCH=1 keeps them, for TOXMON_RUNTIME=torch.
FROM deps AS venv

ARG TOXMON_TORCH=0
RUN if [ "$TOXMON_TORCH" != "1" ]; then \
        pip uninstall --yes torch sympy mpmath networkx transformers onnx && pip check; \
    fi

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
COPY --from=venv /opt/venv /opt/venv
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
