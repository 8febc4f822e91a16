# toxmon: `make run` serves the app, `make test` runs every test. Both install what they need.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed
SECRET_KEY_FILE := data/secret_key
# A laptop run keeps a generated key in data/; production sets DJANGO_SECRET_KEY itself.
WITH_SECRET = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}"
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps perspective-client run serve superuser tiny-model test test-unit \
	test-integration lint format clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==26.3
	$(BIN)/pip install --quiet --group serve --group test
	touch $@

# Debian programs the tests run for real; installed only when one is missing. podman (with runc,
# netavark and aardvark-dns for compose networks) and mmdebstrap build and run the image.
system-deps:
	@missing=""; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus-node-exporter >/dev/null || missing="$$missing prometheus-node-exporter"; \
	command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v podman >/dev/null || missing="$$missing podman"; \
	command -v runc >/dev/null || missing="$$missing runc"; \
	command -v mmdebstrap >/dev/null || missing="$$missing mmdebstrap"; \
	[ -x /usr/lib/podman/netavark ] || missing="$$missing netavark"; \
	[ -x /usr/lib/podman/aardvark-dns ] || missing="$$missing aardvark-dns"; \
	command -v iptables >/dev/null || missing="$$missing iptables"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The npm Perspective client that the Perspective-compatibility tests run against the app,
# installed from its lock file into tests/perspective_client/node_modules (not committed).
PERSPECTIVE_CLIENT := tests/perspective_client
PERSPECTIVE_CLIENT_INSTALLED := $(PERSPECTIVE_CLIENT)/node_modules/.package-lock.json

perspective-client: $(PERSPECTIVE_CLIENT_INSTALLED)

$(PERSPECTIVE_CLIENT_INSTALLED): $(PERSPECTIVE_CLIENT)/package-lock.json
	npm ci --prefix $(PERSPECTIVE_CLIENT) --no-audit --no-fund --loglevel=error
	touch $@

$(SECRET_KEY_FILE):
	mkdir -p data
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

run: install $(SECRET_KEY_FILE)
	$(WITH_SECRET) $(MANAGE) migrate --noinput
	$(WITH_SECRET) $(MANAGE) createcachetable
	$(WITH_SECRET) $(MANAGE) collectstatic --noinput --verbosity 0
	$(WITH_SECRET) $(MANAGE) fetch_model || \
		echo "toxmon: the model could not be fetched; the app will serve the offline fallback engine."
	$(MAKE) serve

# The task worker runs batch analyses beside the web server; Ctrl-C (or the server exiting)
# stops it too. Its model calls use TOXMON_WORKER_INTRA_OP_THREADS (1) threads, so a batch
# leaves the other cores to the web workers. It also runs the daily purge of
# TOXMON_RETENTION_DAYS, queued here.
serve:
	$(WITH_SECRET) $(MANAGE) retention_schedule
	$(WITH_SECRET) TOXMON_INTRA_OP_THREADS="$${TOXMON_WORKER_INTRA_OP_THREADS:-1}" \
		$(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(WITH_SECRET) $(BIN)/gunicorn -c gunicorn.conf.py toxmon.wsgi

# The first admin account: asks for a name and a password.
superuser: install $(SECRET_KEY_FILE)
	$(WITH_SECRET) $(MANAGE) migrate --noinput --verbosity 0
	$(WITH_SECRET) $(MANAGE) createcachetable
	$(WITH_SECRET) $(MANAGE) createsuperuser

# A toxic-bert-shaped model with random weights, for trying the six-label table offline:
# `make tiny-model && TOXMON_MODEL=models/tiny-toxic-bert make run`. ARCH=roberta or
# ARCH=xlm-roberta builds one in the shape of the other Detoxify models.
ARCH ?= bert
TINY_MODEL_NAME = $(if $(filter roberta,$(ARCH)),tiny-unbiased-toxic-roberta,$(if $(filter xlm-roberta,$(ARCH)),tiny-multilingual-toxic-xlm-roberta,tiny-toxic-bert))

tiny-model: install
	$(BIN)/python -m tests.model_factory --arch $(ARCH) models/$(TINY_MODEL_NAME)

# The compose stack and the image with torch take several minutes more: `make test-stack`.
SLOW_CONTAINER_TESTS := tests/integration/test_stack.py tests/integration/test_image_torch.py

test: install system-deps perspective-client lint
	$(BIN)/pytest $(addprefix --ignore=,$(SLOW_CONTAINER_TESTS)) --junitxml=reports/junit.xml

test-unit: install
	$(BIN)/pytest -m unit --junitxml=reports/junit-unit.xml

test-integration: install system-deps perspective-client
	$(BIN)/pytest -m integration $(addprefix --ignore=,$(SLOW_CONTAINER_TESTS)) \
		--junitxml=reports/junit-integration.xml

# Style, the layer contract of pyproject.toml's [tool.importlinter], and types.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SECRET_KEY=typecheck-only $(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache reports $(PERSPECTIVE_CLIENT)/node_modules

# Monitoring (docs/monitoring.md).
.PHONY: dashboards monitor test-monitoring

# Regenerate the Grafana dashboard JSON from monitoring/grafana/generate_dashboard.py.
dashboards: install
	$(BIN)/python monitoring/grafana/generate_dashboard.py

# Prometheus, node-exporter and Alertmanager in the foreground against `make run`; Ctrl-C stops.
monitor: install system-deps
	$(BIN)/python monitoring/stack.py

test-monitoring: install system-deps
	$(BIN)/pytest tests/unit/test_metrics.py tests/integration/test_monitoring_config.py \
		tests/integration/test_monitoring_stack.py --junitxml=reports/junit-monitoring.xml

# End-to-end and stress tests (docs/testing.md).
.PHONY: test-e2e test-stress stress

test-e2e: install system-deps
	$(BIN)/pytest -m e2e --junitxml=reports/junit-e2e.xml

test-stress: install
	$(BIN)/pytest -m stress --junitxml=reports/junit-stress.xml

# The screenshots of docs/moderation.md, taken again by its end-to-end test into docs/images/.
.PHONY: docs-screenshots
docs-screenshots: install system-deps
	TOXMON_DOCS_SCREENSHOTS=1 $(BIN)/pytest tests/e2e/test_moderation_journey.py

# A soak outside CI against a running app (`make run`): USERS each post RPM_PER_USER requests a
# minute for DURATION, e.g. `make stress USERS=50 DURATION=10m`. Prints the stress report.
# Every user posts from 127.0.0.1, so start the app with the per-client limit raised:
# `TOXMON_FORM_RATE_LIMIT=100000/minute make run`.
USERS ?= 10
DURATION ?= 5m
RPM_PER_USER ?= 10
STRESS_HOST ?= http://127.0.0.1:8000

stress: install
	mkdir -p reports/stress
	TOXMON_STRESS_USER_RPM=$(RPM_PER_USER) $(BIN)/locust -f tests/stress/locustfile.py \
		--headless --only-summary --host $(STRESS_HOST) --users $(USERS) --spawn-rate $(USERS) \
		--run-time $(DURATION) --stop-timeout 10 \
		--json-file reports/stress/locust --logfile reports/stress/locust.log; \
	status=$$?; \
	$(BIN)/python -m tests.stress.report reports/stress/locust.json --run-time $(DURATION) \
		--planned-rate $$(( $(USERS) * $(RPM_PER_USER) )) && exit $$status

# How fast the app serves toxic-bert here, on the path people take (the form with explanations,
# the API) and in parts (a benchmark, not a test; about 20 minutes). Uses the real weights when
# `fetch_model` put them in models/, else BERT-base with random weights; prints the figures and
# writes them to docs/benchmark.md.
.PHONY: bench
bench: install
	$(BIN)/python benchmarks/bench.py

# Whether OpenVINO int8 (NNCF post-training quantization) scores faster than ONNX Runtime int8
# on this CPU, one thread each, with their drift from fp32; prints a table (about 6 minutes).
# Installs the `openvino` group into .venv; the server never uses it (benchmarks/runtimes.md).
.PHONY: bench-openvino
bench-openvino: install
	$(BIN)/pip install --quiet --group openvino
	$(BIN)/python benchmarks/openvino_compare.py

# The image built from the Dockerfile with podman and started (docs/testing.md); part of
# `make test`. The first run builds a Debian base image and every layer: minutes, then seconds.
.PHONY: test-image test-stack
test-image: install system-deps
	$(BIN)/pytest tests/integration/test_image.py --junitxml=reports/junit-image.xml

# docker-compose.yml brought up with Compose v2 on podman, two web replicas, the monitoring
# stand-ins and the PostgreSQL profile; and the image built with torch. About 5 minutes once
# the images are built (the Jenkinsfile's Test stage runs it).
test-stack: install system-deps
	$(BIN)/pytest $(SLOW_CONTAINER_TESTS) --junitxml=reports/junit-stack.xml
