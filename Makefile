# fieldapp: two commands on a fresh machine.
#   make run   install, migrate SQLite (instance/fieldapp.db), load demo data if empty, serve :5000
#   make test  install test extras (+ Debian chromium when root), run the whole suite
#
# Every step leaves a stamp (or is its own output), so a second `make run` with nothing
# changed goes straight to serving: it reinstalls only when pyproject.toml changed,
# recompiles translations only when a .po file changed, and migrates only when a
# migration is newer than the database.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := fieldapp

DB_FILE      := instance/fieldapp.db
MIGRATIONS   := $(wildcard migrations/*.py migrations/versions/*.py)
CATALOGUES   := $(wildcard fieldapp/translations/*/*/LC_MESSAGES/*.po)
STAMP_PROD   := $(VENV)/.installed-prod
STAMP_TEST   := $(VENV)/.installed-test
STAMP_I18N   := $(VENV)/.translations
STAMP_ASSETS := $(VENV)/.assets
ASSETS       := $(shell find pwa fieldapp/static -type f 2>/dev/null)

.PHONY: run test install install-test translations browser migrate demo serve bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip >/dev/null

$(STAMP_PROD): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[prod]'
	@touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test,prod]'
	@touch $@ $(STAMP_PROD)

# Compile every area's catalogue (fieldapp/translations/<area>/zh_Hans/...).
$(STAMP_I18N): $(CATALOGUES) | $(BIN)/python
	@$(BIN)/python -m fieldapp.i18n >/dev/null
	@touch $@

# The br/gzip copies of every static file, made once (again when a static file changed).
$(STAMP_ASSETS): $(ASSETS) $(STAMP_I18N) | $(STAMP_PROD)
	@$(BIN)/fieldapp assets compress
	@touch $@

install: $(STAMP_PROD) $(STAMP_I18N) $(STAMP_ASSETS)

install-test: $(STAMP_TEST) $(STAMP_I18N)
	@$(MAKE) --no-print-directory browser

translations: $(STAMP_I18N)

# Debian's chromium for the Playwright tests (Playwright cannot download browsers here).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || exit 1; \
	  else echo "chromium missing: run 'sudo apt-get install -y chromium' (browser tests need it)"; fi; \
	fi

# The default SQLite database is its own stamp: rebuilt when missing, migrated when a
# migration is newer. With DATABASE_URL set (e.g. PostgreSQL) both steps always run.
ifeq ($(origin DATABASE_URL),undefined)
$(DB_FILE): $(MIGRATIONS) | $(STAMP_PROD)
	$(BIN)/fieldapp db upgrade heads
	$(BIN)/fieldapp demo --if-empty
	@touch $@

migrate demo: install $(DB_FILE)
else
migrate: install
	$(BIN)/fieldapp db upgrade heads

demo: migrate
	$(BIN)/fieldapp demo --if-empty
endif

serve:
	$(BIN)/fieldapp run --host $(HOST) --port $(PORT)

run: demo
	@echo "serving on http://$(HOST):$(PORT)  (staff: /login, phone app: /)"
	@$(MAKE) --no-print-directory serve

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if command -v node >/dev/null 2>&1; then node --test tests/js/; else echo "node missing: JS unit tests not run"; [ "$$CI" != "true" ]; fi

# schemathesis per role with many more examples than CI's bounded run (FUZZ_EXAMPLES=6).
fuzz: install-test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest tests/api/test_openapi_fuzz.py -q -p no:cacheprovider

# make bench SCALE=city|province|nation: the in-process benches (the phone app on slow
# links included: bench/test_bench_network.py), then every registered figure of
# bench/figures/ at that scale beside its baseline (data generated once per scale).
SCALE ?= city
bench: install-test
	$(BIN)/python -m pytest bench -q -p no:cacheprovider
	$(BIN)/python -m bench.run --scale $(SCALE)

clean:
	rm -rf $(VENV) instance .pytest_cache
