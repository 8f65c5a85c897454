# The two commands of the README: `make demo` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test install translations messages serve chromium postgres lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The interface's translations: the .po catalogues are committed, their compiled .mo are built here.
CATALOGUES := $(wildcard cxactions/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
# Keywords that mark a message besides Babel's defaults (_, gettext, ngettext, N_, pgettext...).
KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(COMPILED)

## make messages: re-extract every marked string and merge it into the catalogues (then translate
## the new entries; tests/test_catalogue.py fails while one lacks its French).
messages: install
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
		--project cxactions -o build/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i build/messages.pot \
		-d cxactions/translations

## make demo: install, initialise ./instance with the demo organisation, serve on http://127.0.0.1:5000
demo: install translations
	$(BIN)/cxactions demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/cxactions run --host $(HOST) --port $(PORT)

serve: install translations
	$(BIN)/cxactions run --host $(HOST) --port $(PORT)

## make test: install, make sure chromium and PostgreSQL are there, run the whole suite
# One pytest worker per core (pytest-xdist): each worker has its own PostgreSQL database,
# browser and caches.
test: install translations chromium postgres
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
