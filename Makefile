# canvass — `make demo` and `make test` work as the first command on a fresh machine:
# each creates .venv and installs the project into it when missing.
# `make check` (lint, types, tests) is what CI runs through .ci/run.
PY    ?= python3
VENV  ?= .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SEED ?= 7
PYTEST_ARGS ?=

.PHONY: install demo test check lint format typecheck browser postgres bench clean example-config

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,dask,postgres,bench]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/canvass demo --seed $(DEMO_SEED) --out data/demo --force
	$(BIN)/canvass run --config data/demo/canvass.toml --out maps/demo
	@echo "Open maps/demo/index.html in a browser."

# The browser test needs Debian's Chromium and the PDF checks poppler's pdftotext;
# install them when we can (root with apt), otherwise those tests skip and say why.
browser:
	@{ test -x /usr/bin/chromium && command -v pdftotext >/dev/null; } || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq chromium poppler-utils) \
	      >/dev/null 2>&1 \
	      || echo "could not install chromium/poppler-utils; those tests will skip"; \
	  else echo "chromium or pdftotext missing and not root; those tests will skip"; fi; }

# The PostgreSQL tests start a throw-away server from Debian's binaries; install them
# when we can (root with apt), otherwise those tests skip and say why.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq postgresql || \
	      (apt-get update -qq && apt-get install -y -qq postgresql)) >/dev/null 2>&1 \
	      || echo "could not install postgresql; the PostgreSQL tests will skip"; \
	  else echo "postgresql missing and not root; the PostgreSQL tests will skip"; fi; }

test: $(STAMP) browser postgres
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check canvass tests bench
	$(BIN)/ruff format --check canvass tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix canvass tests bench
	$(BIN)/ruff format canvass tests bench

typecheck: $(STAMP)
	$(BIN)/mypy canvass

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/standard.py
	$(BIN)/python bench/geocode_northampton.py

# canvass.example.toml is generated from the parameter classes (a test checks it).
example-config: $(STAMP)
	$(BIN)/python -c "from canvass._toml import example_toml; from canvass.config import PlanConfig; print(example_toml(PlanConfig()), end='')" > canvass.example.toml

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .coverage build data/demo maps/demo
