# One place for the commands people and CI run.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo serve test lint unit unit-postgresql bench clean docs

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $@ $(STAMP)

## make demo: set up and build the demo company's store in ./centric-demo
demo: $(STAMP)
	$(BIN)/centric demo --dir centric-demo

## make serve: the web app on the demo store (built first when absent) at http://127.0.0.1:8000; the first
## time, a login for every agent of the demo's routing table and admin@example.com, one password, printed
DEMO_DB := centric-demo/centric.duckdb
serve: $(STAMP)
	@test -f $(DEMO_DB) || $(BIN)/centric demo --dir centric-demo
	@if [ "$$($(BIN)/centric --db $(DEMO_DB) users list --json)" = "[]" ]; then \
	  pw=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))') && \
	  printf '%s' "$$pw" | $(BIN)/centric --db $(DEMO_DB) users add-team --password-stdin && \
	  printf '%s' "$$pw" | $(BIN)/centric --db $(DEMO_DB) users add admin@example.com --role admin \
	    --name Admin --password-stdin && \
	  echo "sign in as admin@example.com, or as an agent such as a.nowak@example.com, with the password $$pw"; \
	fi
	$(BIN)/centric serve --db $(DEMO_DB)

## make test: set up with the dev and spark extras, lint, then run the tests: all of them on DuckDB and, side by side
## with them (two pytest processes, each with stores of its own; their lines of progress interleave, each leg ends
## with its own summary line), the tests
## of the store fixtures (store, demo_store, web_db) again on PostgreSQL
test: $(DEVSTAMP) lint
	$(MAKE) --no-print-directory -j2 --output-sync=line unit unit-postgresql

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests benchmarks scripts

## ENGINE_RESULTS=FILE: also record on which engines each capability's tests passed (pytest --engine-capabilities)
## and check docs/deploy.md's engine table against that run (CI sets it; scripts/engine_table.py)
ENGINE_RESULTS ?=
unit: $(DEVSTAMP)
	$(BIN)/python -m pytest -q $(if $(ENGINE_RESULTS),--engine-capabilities=$(ENGINE_RESULTS))
	$(if $(ENGINE_RESULTS),$(BIN)/python scripts/engine_table.py --results $(ENGINE_RESULTS) --check)

## the tests marked store (they take the store, demo_store or web_db fixture) again, each with its store in a new
## database on a throwaway PostgreSQL server (tests/pg.py; skipped without its binaries unless
## CENTRIC_REQUIRE_POSTGRES=1, as in CI): the demo is copied once into a template database, each web_db made from it
## (the browser tests among them: Chromium over the same pages)
unit-postgresql: $(DEVSTAMP)
	$(BIN)/python -m pytest -q tests -m "store and not duckdb_only" --store-engine postgresql

## regenerate docs/data-model.md from the code
docs: $(STAMP)
	$(BIN)/centric schema --markdown > docs/data-model.md

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/metrics.py
	$(BIN)/python benchmarks/clv.py
	$(BIN)/python benchmarks/drivers.py
	$(BIN)/python benchmarks/drivers_real.py
	$(BIN)/python benchmarks/text_speed.py
	$(BIN)/python benchmarks/text_quality.py
	$(BIN)/python benchmarks/text_ceiling.py
	$(BIN)/python benchmarks/sla.py
	$(BIN)/python benchmarks/taxonomy_fit.py
	$(BIN)/python benchmarks/hostile_ingest.py

clean:
	rm -rf $(VENV) centric-demo
