# Everything creates the virtual environment first when it is missing or stale.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast demo lint format bench bench-dedup eval eval-dedup clean

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

## Story deduplication: pairwise precision/recall/F1 on tests/dedup_eval (+ ../shared/corpora)
eval-dedup: $(STAMP)
	$(BIN)/newsmon eval-dedup --orders 5

## End-to-end throughput vs the extraction limit and a naive loop (not part of make test)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.pipeline_bench

## Extraction quality on ../shared/corpora: newsmon's path vs plain trafilatura (skips when absent)
eval: $(STAMP)
	$(BIN)/python -m benchmarks.eval_extraction

## Cost of placing one article at 1k/10k/100k stored articles, and index memory
bench-dedup: $(STAMP)
	$(BIN)/python -m benchmarks.dedup_bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache data/demo.duckdb*
