# The two commands of the README: `make run` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := app.py
export PORT

.PHONY: run test setup db demo browser bench bench-log bench-import clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); echo "Cannot create $(VENV) (on Debian: apt-get install python3-venv)" >&2; \
		  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo seed --if-empty

# Web, one worker and, unless REDIS_URL points elsewhere, the embedded redis-server.
# honcho gives the first process (web) the port of -p.
run: demo
	$(BIN)/honcho start -f Procfile -p $(PORT) $(if $(REDIS_URL),web worker,)

test: setup browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Browser tests drive Debian's chromium: installed when missing and we are root, else a note.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "Note: /usr/bin/chromium is missing; the browser tests need it" \
		"(as root: apt-get install chromium)."; fi

# The throughput benchmark, several minutes; e.g. BENCH_ARGS="--contacts 10000 --json".
bench: setup
	$(BIN)/python bench/throughput.py $(BENCH_ARGS)

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

clean:
	rm -rf $(VENV) .pytest_cache
