# Dispatch 112 — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` is the demo and development server: DEBUG on (autoreload, debug pages, demo
# users) unless DATABASE_URL is in the environment or DEBUG=false is given. Without it the
# settings keep DEBUG off: an installed command centre never shows debug pages.
DEBUG ?= $(if $(DATABASE_URL),false,true)
# seed_demo adds the demo users only with DEBUG on; pass SEED_FLAGS=--force-demo-users to
# have them on a demo with DEBUG off.
# `make run` gives the demo city a past (issue 17 §8): HISTORY_DAYS=0 skips it.
HISTORY_DAYS ?= 30
SEED_FLAGS ?= --history $(HISTORY_DAYS)
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist); each worker has its own test database and its
# own Redis key prefix. `--dist loadgroup` keeps a module that starts servers once for all its
# tests (marked xdist_group) on one worker. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
# A worker that dies (a crash, not a failing test) ends the run with an error: replacing it
# under --dist loadgroup left the run waiting for ever (seen 2026-12-06).
XDIST_CRASH := $(if $(filter 0,$(TEST_WORKERS)),,--max-worker-restart=0)

.PHONY: install run run-kendal test test-browser lint format messages bench bench-tiny chaos profile clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python >= 3.11 is required: make PYTHON=python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	DEBUG=$(DEBUG) $(BIN)/python manage.py migrate --noinput
	DEBUG=$(DEBUG) DISPATCH_DEMO_PEER_URL=http://$(HOST):$(KENDAL_PORT) \
		$(BIN)/python manage.py seed_demo $(SEED_FLAGS)
	DEBUG=$(DEBUG) $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

KENDAL_PORT ?= 8001
# A second 112 centre on :$(KENDAL_PORT) with its own database (var/kendal): the demo's Kendal, the peer
# `make run`'s console hands reports over to (EIDO, SPEC §10). Run it in another terminal.
KENDAL = VAR_DIR=var/kendal DISPATCH_REPORT_PREFIX=KDL DISPATCH_CITY_NAME=Kendal \
	DISPATCH_CENTRE_NAME="112 Kabupaten Kendal" DISPATCH_CENTRE_ID=urn:dispatch112:kendal
run-kendal: install
	$(KENDAL) DEBUG=$(DEBUG) $(BIN)/python manage.py migrate --noinput
	$(KENDAL) DEBUG=$(DEBUG) DISPATCH_DEMO_PEER_URL=http://$(HOST):$(PORT) \
		$(BIN)/python manage.py seed_demo $(SEED_FLAGS)
	$(KENDAL) DEBUG=$(DEBUG) $(BIN)/python manage.py serve --host $(HOST) --port $(KENDAL_PORT)

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(XDIST_CRASH) $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (apt-get install chromium); .ci/run installs it.
test-browser: install
	$(BIN)/pytest -m browser -n $(TEST_WORKERS) --dist loadgroup $(XDIST_CRASH) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@cmp -s package-lock.json var/eslint/.installed || { rm -rf var/eslint && mkdir -p var/eslint \
		&& cp package.json package-lock.json var/eslint/ && npm ci --prefix var/eslint --no-audit --no-fund \
		&& cp package-lock.json var/eslint/.installed; }
	var/eslint/node_modules/.bin/eslint static/js
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract and compile the translation catalogues (needs GNU gettext; the .mo files are committed).
messages: install
	$(BIN)/python manage.py makemessages -l id -l en --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

bench: install
	$(BIN)/python benchmarks/run.py

# Every part of `make bench` with tiny counts (seconds each, numbers only): what CI runs.
bench-tiny: install
	BENCH_TINY=1 $(BIN)/python benchmarks/run.py

# Every fault of issue 35, one at a time under load, on a PostgreSQL primary + replica and a
# Redis master + replica + 3 sentinels started on this machine (benchmarks/chaos.py; needs
# initdb, pg_basebackup, redis-server). CHAOS_TINY=1: a short run (about two minutes).
chaos: install
	$(BIN)/python benchmarks/chaos.py

# Where one report POST spends its CPU: py-spy samples benchmarks/request_profile.py (GIL
# held, i.e. Python running) and the stacks are folded into the request's phases.
profile: install
	mkdir -p var
	BENCH_PROFILE_CPROFILE=0 BENCH_PROFILE_REQUESTS=1500 $(BIN)/py-spy record --gil -r 400 \
		-f raw -o var/request-profile.txt -- $(BIN)/python benchmarks/request_profile.py
	$(BIN)/python benchmarks/request_profile.py --fold var/request-profile.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
