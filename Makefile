# fieldapp: two commands on a fresh machine.
#   make run   install, migrate SQLite (instance/fieldapp.db), load demo data if empty, serve :5000
#   make test  install test extras (+ Debian chromium when root), run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := fieldapp

.PHONY: run test install install-test translations browser migrate demo serve bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip >/dev/null

install: $(BIN)/python
	$(PIP) install -e '.[prod]'
	$(MAKE) translations
	@$(BIN)/fieldapp assets compress

install-test: $(BIN)/python
	$(PIP) install -e '.[test,prod]'
	$(MAKE) translations
	$(MAKE) browser

# Compile every area's catalogue (fieldapp/translations/<area>/zh_Hans/...).
translations:
	@$(BIN)/python -m fieldapp.i18n >/dev/null

# Debian's chromium for the Playwright tests (Playwright cannot download browsers here).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || exit 1; \
	  else echo "chromium missing: run 'sudo apt-get install -y chromium' (browser tests need it)"; fi; \
	fi

migrate: install
	$(BIN)/fieldapp db upgrade heads

demo: migrate
	$(BIN)/fieldapp demo --if-empty

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
