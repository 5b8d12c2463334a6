# Everything creates the virtual environment first when it is missing or stale.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast demo lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## One ingest pass over newsmon.toml into data/newsmon.duckdb
run: $(STAMP)
	$(BIN)/newsmon run

## The whole test suite, slow end-to-end tests included
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Unit and integration tests without the slow end-to-end ones
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## Offline demo: three recorded outlets served on loopback, ingested into data/demo.duckdb
demo: $(STAMP)
	$(BIN)/newsmon demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache data/demo.duckdb*
