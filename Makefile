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
	@echo "make bench-video - probe and conversion per minute of 1080p video (issue 15)"
	@echo "make bench-reels - 100 Reels with first comments, faults and a killed worker (issue 15)"
	@echo "make screenshots - the browser journey, refreshing docs/screenshots"
	@echo "make reliability - 1,000 publications under every fault + a longer fuzz (minutes)"

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
	$(BIN)/mypy apps config sandbox

# Two processes (the CI machine has two cores; PYTEST_WORKERS=4 on a bigger one), each with its
# own test database and sandbox; one that runs out of tests takes pending ones over from the other
# (worksteal), so both finish together. tests/conftest.py puts the slowest modules first.
PYTEST_WORKERS ?= 2
pytest:
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

# Static analysis (bandit, configured in pyproject.toml) and known vulnerabilities in the locked
# dependencies (pip-audit against PyPI's vulnerability data). Each skipped check is justified in
# docs/security.md. When PyPI's JSON API does not answer for some packages (a mirror or proxy
# that serves only the simple index, as on the development machine), pip-audit cannot audit
# them: that is reported loudly, and fails the target when PIP_AUDIT_REQUIRED=1 (set it in CI).
PIP_AUDIT_REQUIRED ?= 0
.PHONY: security
security:
	$(BIN)/bandit -c pyproject.toml -r apps config sandbox -q
	@set -o pipefail; out=$$($(UV) export --frozen --format requirements-txt --no-hashes --quiet \
		| $(BIN)/pip-audit -r /dev/stdin --no-deps --disable-pip --progress-spinner off 2>/dev/null); \
	rc=$$?; skipped=$$(grep -c "could not be audited" <<<"$$out"); \
	grep -v -e "could not be audited" -e "^Name  *Skip Reason" -e "^-* -*$$" <<<"$$out"; \
	if [ $$rc -ne 0 ]; then echo "pip-audit: known vulnerabilities (or an error) above"; exit $$rc; fi; \
	if [ "$$skipped" -gt 0 ]; then \
		echo "pip-audit: $$skipped locked packages NOT AUDITED: the vulnerability service did not answer"; \
		if [ "$(PIP_AUDIT_REQUIRED)" = 1 ]; then exit 1; fi; \
	else echo "pip-audit: every locked package audited, no known vulnerability"; fi

# The reliability suite's long run (issue 8): 1,000 publications under every fault at once.
# Its own database (sa_reliability), Redis db 13; minutes. The short version runs in make test
# (tests/reliability). Options with RELIABILITY_ARGS. Then the fuzz tests at 1,500 examples each.
.PHONY: reliability
reliability: install services
	$(BIN)/python bench/reliability/run.py $(RELIABILITY_ARGS)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/fuzz -q -p no:cacheprovider

# Debian's Chromium for the browser tests (tests/browser), installed when missing.
.PHONY: chromium screenshots
chromium:
	bin/ensure-chromium

# The browser journey again, writing its screenshots into docs/screenshots (the docs show them).
screenshots: install services chromium
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/browser -q -p no:cacheprovider

test: install services chromium lint typecheck security pytest

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

# Issue 15's video benchmark: the probe and conversion jobs per minute of 1080p video against a
# bare PyAV decode and transcode of the same file, in the same run (about 2 minutes; no services).
.PHONY: bench-video
bench-video: install
	$(BIN)/python bench/video/run.py $(BENCH_ARGS)

# Issue 15's Reels benchmark: 100 Reels (Instagram and Facebook) with first comments through two
# real workers, processing delays, faults after the publishing call acted, a worker SIGKILLed.
.PHONY: bench-reels
bench-reels: install services
	$(BIN)/python bench/reels/run.py $(BENCH_ARGS)
