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

# Debian programs the tests run for real; installed only when one is missing.
system-deps:
	@missing=""; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus-node-exporter >/dev/null || missing="$$missing prometheus-node-exporter"; \
	command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
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
	$(WITH_SECRET) $(MANAGE) collectstatic --noinput --verbosity 0
	$(WITH_SECRET) $(MANAGE) fetch_model || \
		echo "toxmon: the model could not be fetched; the app will serve the offline fallback engine."
	$(MAKE) serve

# The task worker runs batch analyses beside the web server; Ctrl-C (or the server exiting)
# stops it too.
serve:
	$(WITH_SECRET) $(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(WITH_SECRET) $(BIN)/gunicorn -c gunicorn.conf.py toxmon.wsgi

# The first admin account: asks for a name and a password.
superuser: install $(SECRET_KEY_FILE)
	$(WITH_SECRET) $(MANAGE) migrate --noinput --verbosity 0
	$(WITH_SECRET) $(MANAGE) createsuperuser

# A toxic-bert-shaped model with random weights, for trying the six-label table offline:
# `make tiny-model && TOXMON_MODEL=models/tiny-toxic-bert make run`.
tiny-model: install
	$(BIN)/python -m tests.model_factory models/tiny-toxic-bert

test: install system-deps perspective-client lint
	$(BIN)/pytest --junitxml=reports/junit.xml

test-unit: install
	$(BIN)/pytest -m unit --junitxml=reports/junit-unit.xml

test-integration: install system-deps perspective-client
	$(BIN)/pytest -m integration --junitxml=reports/junit-integration.xml

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

# A soak outside CI against a running app (`make run`): USERS each post RPM_PER_USER requests a
# minute for DURATION, e.g. `make stress USERS=50 DURATION=10m`. Prints the stress report.
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
