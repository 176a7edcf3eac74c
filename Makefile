# aimap: `make run` serves the site with demo data, `make test` runs the whole suite.

SHELL := /bin/bash
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed

# A Python >= 3.12: PATH first, then pyenv's versions, then Debian's /usr/bin/python3.
PYTHON_CANDIDATES := python3.13 python3.12 python3 \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3)) \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python3)) \
	/usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3
PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; \
	then command -v $$p; break; fi; done)

.PHONY: help venv requirements-hashes run serve seed migrate test test-fast lint format check-migrations messages bench bench-links soak clean

help:
	@echo "make run     set up, migrate, seed demo data, serve on http://127.0.0.1:$(PORT) with the task worker"
	@echo "make test    the whole test suite (DATABASE_URL picks the database)"
	@echo "make lint    ruff, the layers contract (lint-imports), and a check that no migration is missing"
	@echo "make bench   the benchmark on PostgreSQL, gunicorn and wrk (docs/performance.md)"
	@echo "make soak    5 minutes of mixed load at concurrency 32: no errors, bounded memory"
	@echo "make bench-links   10,000 link checks by one task worker against 100 local servers (about 3 minutes)"
	@echo "make requirements-hashes   after adding or upgrading a pin: the --hash lines pip checks"

$(STAMP): requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON)" ]; then \
		echo "aimap needs Python 3.12 or newer, and none was found on PATH, under ~/.pyenv/versions or as /usr/bin/python3."; \
		echo "Install one (Debian/Ubuntu: apt-get install python3 python3-venv; or pyenv install 3.12) and run make again,"; \
		echo "or name it: make run PYTHON=/path/to/python3.12"; \
		exit 1; \
	fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(BIN)/python -m pip check
	@touch $(STAMP)

venv: $(STAMP)

# After adding or upgrading a pin in requirements*.txt: every file PyPI holds for each pinned
# version gets its --hash line (pip installs in hash-checking mode). Needs only Python and PyPI.
requirements-hashes:
	@test -n "$(PYTHON)" || { echo "No Python 3.12 or newer found; name one: make requirements-hashes PYTHON=..."; exit 1; }
	$(PYTHON) bench/requirements_hashes.py

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# DEBUG is on for the development server unless the environment says otherwise.
run: export DEBUG ?= 1
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
# The task worker (emails, the periodic jobs) runs beside the server and stops with it
# (Ctrl-C stops both); start_schedule puts the periodic jobs' tick in its queue once.
run: seed
	$(BIN)/python manage.py start_schedule
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py db_worker --queue-name '*' & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: venv check-migrations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv check-migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: venv
	@DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run >/dev/null \
		|| (echo "A model change has no migration: run 'DEBUG=1 .venv/bin/python manage.py makemigrations'"; exit 1)

messages: venv
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=staticfiles
	DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

# The benchmark (bench/run.py): PostgreSQL and Redis on 127.0.0.1, wrk from Debian's packages.
# BENCH_ARGS=--quick for a short run, --fresh to seed the benchmark database again.
bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

# The link checks (bench/linkchecks.py): a fresh database aimap_bench_links on the benchmark's
# PostgreSQL, 10,000 listings on 100 HTTP servers on 127.0.0.1, one db_worker checking them.
# BENCH_LINKS_ARGS=--interval-ms 2000 for the production spacing (1000 by default here).
bench-links: venv
	$(BIN)/python -m bench.linkchecks $(BENCH_LINKS_ARGS)

# The soak (bench/soak.py): public GETs (wrk) and founders saving drafts against gunicorn,
# fails on any error or on memory growth past the bound. SOAK_ARGS=--quick for 30 s;
# --duration SECONDS (300), --concurrency N (32); or SOAK_DURATION, SOAK_CONCURRENCY.
soak: venv
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
