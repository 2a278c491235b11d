# make run: set up everything on a fresh machine and serve the room on http://127.0.0.1:5000
# make test: set up and run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run dev setup install install-test test lint format bench clean

include mk/i18n.mk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres,redis]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres,redis,test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Migrate the database in instance/, seed the workshop, make sure an organiser exists.
setup: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	$(BIN)/flask users ensure-organiser

## Serve with gevent (thousands of websockets, no access logs with addresses).
run: setup
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m discussion.server

## Development server with the reloader and debugger.
dev: setup
	DISCUSSION_SOCKETIO_ASYNC_MODE=threading $(BIN)/flask run --debug --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check discussion

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format discussion tests bench

## Load benchmark: the app and a bare python-socketio server in every scenario (bench/README.md).
bench: install-test
	cd bench && npm install --silent --no-audit --no-fund
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
