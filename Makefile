# The two commands of the README: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install lint typecheck pytest services migrate demo help bench

help:
	@echo "make run   - install, migrate, seed the demo tenant, start web + worker + beat"
	@echo "make test  - install, start PostgreSQL/Redis if needed, run ruff, mypy and pytest"
	@echo "make bench - the publishing benchmark (SPEC 13; minutes; not part of make test)"

# uv installs the locked dependencies (uv.lock) in seconds; bootstrap it with pip if missing.
install:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

run: install
	@$(BIN)/python bin/init-env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	exec $(BIN)/honcho -f Procfile.dev start

services:
	bin/ensure-services

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy apps config

pytest:
	$(BIN)/pytest

test: install services lint typecheck pytest

# SPEC 13's publishing benchmark: its own database (sa_bench), sandbox and workers. Not in `test`.
# Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--faults --kill-worker".
bench: install services
	$(BIN)/python bench/publish/run.py $(BENCH_ARGS)

# SPEC 13's REST API benchmark: its own database (sa_bench_api, 100,000 posts), Redis db 14,
# gunicorn and wrk (installed here if missing). Not in `test`. Options with BENCH_ARGS, e.g.
# make bench-api BENCH_ARGS="--reuse --rounds 3".
.PHONY: bench-api
bench-api: install services
	@command -v wrk >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }
	$(BIN)/python bench/api/run.py $(BENCH_ARGS)
