# KeneyApp: `make run` serves the app with demo data, `make test` runs the suite.
# Both create .venv and install the pinned requirements first; nothing else is needed but Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install clean screenshots

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# No access log (its lines carry query strings, and patient searches are names) and no rewriting of
# the client address from X-Forwarded-For: the app trusts that header per NUM_PROXIES itself.
UVICORN_FLAGS := --no-access-log --no-proxy-headers

# The embedded defaults (SQLite, in-process cache, eager tasks, in-memory channel layer) with
# DEBUG on, demo data loaded, and one ASGI process serving the API, the admin and websockets.
run: $(INSTALLED)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/uvicorn keneyapp.asgi:application --host $(HOST) --port $(PORT) $(UVICORN_FLAGS)

# The whole suite; on PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set.
test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests (tests/browser/: headless Chromium, which must be installed: apt-get install
# chromium chromium-driver), saving their screenshots of each page, in English and French, to
# docs/screenshots/ (linked from the README) instead of a temporary directory.
screenshots: $(INSTALLED)
	rm -f docs/screenshots/en/*.png docs/screenshots/fr/*.png
	REQUIRE_BROWSER=1 SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/browser -p no:cacheprovider $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .mypy_cache db.sqlite3*

# The benchmark: the production topology (deploy/start.sh) on PostgreSQL and Redis, the guide's load
# test and a saturation run, reported in bench/results/latest.{md,json,html}. QUICK=1: a smoke run
# on a small data set in under 90 s. Exits non-zero unless the report says PASS.
QUICK ?=
.PHONY: bench
bench: $(INSTALLED)
	$(BIN)/python -m bench.run $(if $(filter-out 0 no false,$(QUICK)),--quick)
