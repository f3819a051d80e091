# Doorstep — every target sets itself up; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv run test test-pg test-dates lint fmt migrate bench bench-quick fuzz docs clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(TOOLS)/bin/uv:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: uv.lock pyproject.toml shared/pyproject.toml gateway/pyproject.toml services/*/pyproject.toml tools/pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

# What `make run` needs: the apps and their runtime dependencies, not the test and lint tools
# (`--inexact` leaves those in place when `make test` installed them first).
$(VENV)/.synced-run: uv.lock pyproject.toml shared/pyproject.toml gateway/pyproject.toml services/*/pyproject.toml tools/pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	@touch $@

venv: $(VENV)/.synced ## Create the virtual environment from the lock file (with the test and lint tools)

migrate: $(VENV)/.synced-run ## Apply every service's migrations (SQLite under var/ unless configured)
	$(PY) -m doorstep_tools.migrate upgrade

run: $(VENV)/.synced-run ## Set up, migrate, load demo data once and start gateway + 3 services
	$(PY) -m doorstep_tools.launcher

# The TypeScript check of the generated API types (tests/e2e/test_generated_client.py): pinned npm
# packages, installed where npm exists (the test says it skipped where it does not).
TS := tools/typescript
$(TS)/node_modules/.installed: $(TS)/package.json $(TS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(TS) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the TypeScript type check will be skipped"; fi

test: venv $(TS)/node_modules/.installed ## Run the whole suite (SQLite; PostgreSQL too when DOORSTEP_TEST_DATABASE_URL is set)
	$(PY) -m tests.lanes $(PYTEST_ARGS)

test-pg: venv $(TS)/node_modules/.installed ## Run the suite on SQLite and on the local PostgreSQL
	DOORSTEP_TEST_DATABASE_URL=$${DOORSTEP_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	DOORSTEP_TEST_REQUIRE_POSTGRES=1 $(PY) -m tests.lanes $(PYTEST_ARGS)

test-dates: venv ## The date-sensitive tests at every instant of the date matrix (SQLite; see tests/travel/matrix.py)
	$(PY) -m tests.travel.matrix $(PYTEST_ARGS)

lint: venv ## ruff (lint + format check), mypy and the import contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared/src tools/src gateway/src services/catalog/src services/proxy/src services/stations/src
	$(VENV)/bin/lint-imports --no-cache

fmt: venv ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv ## Run every benchmark (ratios against baselines measured in the same run) → bench/results/
	$(PY) bench/run.py

bench-quick: venv ## The benchmarks in about a minute
	$(PY) bench/run.py --quick

fuzz: venv ## A long API-fuzzing run (schemathesis) against every app
	DOORSTEP_FUZZ_EXAMPLES=$${DOORSTEP_FUZZ_EXAMPLES:-500} $(PY) -m pytest tests/fuzz -q

docs: venv ## Regenerate the README's configuration table from the settings classes
	$(PY) -m doorstep_tools.envdoc --write README.md

clean: ## Remove the environment and local data
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
