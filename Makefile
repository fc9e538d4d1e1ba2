# The two commands of the README: `make run` (the portal with demo data on this machine) and
# `make test` (the whole suite on PostgreSQL and Redis). Only Python 3.11 is needed for `make run`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
# Written after a successful install; requirements newer than it trigger a new install.
STAMP := $(VENV)/.requirements-installed
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help install run totp test lint fmt check-deploy

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo '  make test PYTEST_ARGS="-k ledger"   passes arguments to pytest'

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed (or: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	@echo "Installing requirements-dev.txt into $(VENV) (the first time takes a few minutes) ..."
	@set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 \
		| { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

install: $(STAMP) ## Create .venv and install requirements-dev.txt (only when requirements changed)

run: $(STAMP) ## Migrate, load the demo, run web + Celery worker + beat at http://127.0.0.1:8000/ (PORT=8123 for another port)
	@# Every time, not once: it adds keys that a var/dev.env from an older checkout lacks.
	@$(PY) scripts/run_dev.py init-env
	@# --port: the printed sign-in link and every notification link (PORTAL_BASE_URL) use $(PORT).
	@$(PY) scripts/run_dev.py exec --port $(PORT) -- $(PY) manage.py migrate --no-input
	@$(PY) scripts/run_dev.py exec --port $(PORT) -- $(PY) manage.py seed_demo
	@$(PY) scripts/run_dev.py exec --port $(PORT) -- $(PY) manage.py seed_demo_trail
	@$(PY) scripts/run_dev.py serve --port $(PORT)

# USER is also the shell's login name: without USER=... the command says that person has no code.
totp: $(STAMP) ## Print a demo persona's current TOTP code: make totp USER=rita.requester
	@$(PY) scripts/run_dev.py exec -- $(PY) manage.py demo_totp "$(USER)"

test: $(STAMP) ## ruff, ruff format --check, mypy, cfn-lint, makemigrations --check, pytest on PostgreSQL + Redis
	@$(PY) scripts/testenv.py test -- $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check, ruff format --check, mypy, cfn-lint
	@$(PY) scripts/testenv.py lint

fmt: $(STAMP) ## Format and autofix: ruff format, ruff check --fix
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check-deploy: $(STAMP) ## manage.py check --deploy --fail-level WARNING with a production-like configuration
	@$(PY) scripts/testenv.py deploy-check
