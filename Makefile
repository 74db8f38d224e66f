# The two commands of the README: `make run` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_FIGURES ?= $(or $(TMPDIR),/tmp)/optintel-bench-sqlite.json
PORT ?= 5000
export FLASK_APP := app.py
export PORT

.PHONY: run test setup bench-setup db demo browser postgresql bench bench-log bench-import screenshots clean

# When the pinned versions are installed already (requirements.txt merely newer than the
# stamp), nothing is fetched: no network.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); echo "Cannot create $(VENV) (on Debian: apt-get install python3-venv)" >&2; \
		  exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-index \
		-r requirements.txt 2>/dev/null || { \
		$(BIN)/python -m pip install --quiet --upgrade pip && \
		$(BIN)/python -m pip install --quiet -r requirements.txt; }
	touch $(STAMP)

setup: $(STAMP)

# The benchmark's own peers and clients (Celery, requests, aiohttp), in the same venv, the same way.
$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-index \
		-r bench/requirements.txt 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench-setup: $(BENCH_STAMP)

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo seed --if-empty

# Web, one pool of workers (a process per core) and, unless REDIS_URL points elsewhere, the
# embedded redis-server; honcho gives the first process (web) the port of -p. On Ctrl-C honcho
# stops them all and exits with 130 even when each ended well (it prints each one's status):
# the shell leaves the interrupt to honcho and takes that 130 for success. A SIGTERM that make
# passes to the shell goes on to honcho, waited for until it has stopped everything.
run: demo
	@trap '' INT; trap 'kill -TERM $$honcho' TERM; \
	$(BIN)/honcho start -f Procfile -p $(PORT) $(if $(REDIS_URL),web worker,) & honcho=$$!; \
	while wait $$honcho; status=$$?; kill -0 $$honcho 2>/dev/null; do :; done; \
	[ $$status -eq 130 ] || exit $$status

# The whole suite, the benchmark smoke run included (-m "not bench" in PYTEST_ARGS leaves it out),
# then its wall time and the database it ran on: SQLite unless TEST_DATABASE_URL is set.
test: setup bench-setup browser postgresql
	@echo "$(BIN)/python -m pytest -q $(PYTEST_ARGS)"; start=$$(date +%s); status=0; \
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) || status=$$?; \
	seconds=$$(( $$(date +%s) - start )); url="$${TEST_DATABASE_URL:-sqlite:}"; \
	printf 'Suite time on %s: %d:%02d\n' "$${url%%[:+]*}" $$((seconds / 60)) $$((seconds % 60)); \
	exit $$status

# The PostgreSQL tests start a throwaway cluster of Debian's postgresql when the suite runs on
# SQLite: installed when missing and we are root, else a note.
postgresql:
	@if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	else echo "Note: PostgreSQL is missing; its tests need it" \
		"(as root: apt-get install postgresql)."; fi

# Browser tests drive Debian's chromium: installed when missing and we are root, else a note.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "Note: /usr/bin/chromium is missing; the browser tests need it" \
		"(as root: apt-get install chromium)."; fi

# The throughput benchmark on SQLite, then on a throwaway PostgreSQL cluster judged against the
# SQLite run (about 40 minutes in all on a busy 2-core machine); e.g. BENCH_ARGS="--contacts 10000 --json".
bench: bench-setup
	$(BIN)/python bench/throughput.py --save $(BENCH_FIGURES) $(BENCH_ARGS)
	$(BIN)/python bench/throughput.py --postgres --sqlite-figures $(BENCH_FIGURES) $(BENCH_ARGS)

# The Tracking Log with 1,000,000 deliveries, on SQLite then on a throwaway PostgreSQL cluster
# (about ten minutes); e.g. BENCH_LOG_ARGS="--deliveries 100000" or "--reuse".
bench-log: setup
	$(BIN)/python bench/log_pages.py $(BENCH_LOG_ARGS)
	$(BIN)/python bench/log_pages.py --postgres $(filter-out --reuse,$(BENCH_LOG_ARGS))

# A file of 1,000,000 lines imported, downloaded and deleted, on SQLite then on a throwaway
# PostgreSQL cluster (some ten minutes); e.g. BENCH_IMPORT_ARGS="--lines 100000 --workers 1".
bench-import: setup
	$(BIN)/python bench/imports.py $(BENCH_IMPORT_ARGS)
	$(BIN)/python bench/imports.py --postgres $(BENCH_IMPORT_ARGS)

# The README's screenshots (docs/screenshots/), from demo data in a throwaway database.
screenshots: setup browser
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache
