# The two commands of the README: `make demo` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test install serve chromium postgres lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: install, initialise ./instance with the demo organisation, serve on http://127.0.0.1:5000
demo: install
	$(BIN)/cxactions demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/cxactions run --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/cxactions run --host $(HOST) --port $(PORT)

## make test: install, make sure chromium and PostgreSQL are there, run the whole suite
# One pytest worker per core (pytest-xdist): each worker has its own PostgreSQL database,
# browser and caches.
test: install chromium postgres
	$(BIN)/python -m pytest -n auto

# Debian's chromium drives the browser tests; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Start the local PostgreSQL cluster when it is installed but down (the suite runs on it too).
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		if [ -d /etc/postgresql ]; then \
			echo "Starting PostgreSQL"; \
			pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start; \
			for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		fi; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/import_responses.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
