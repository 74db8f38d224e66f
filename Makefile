# The two commands of the README: `make run` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app.py
PORT ?= 5000

.PHONY: run test setup db demo bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo seed --if-empty

# Web, one worker and, unless REDIS_URL points elsewhere, the embedded redis-server.
run: demo
	$(BIN)/honcho start -f Procfile -p $(PORT) $(if $(REDIS_URL),web worker,)

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
