# Everything creates the virtual environment first when it is missing or stale.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test test-fast demo lint format bench bench-dedup bench-query bench-startup bench-bomb eval eval-dedup eval-rules eval-crosslang clean check-compose compose-cli

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## One ingest pass over newsmon.toml into data/newsmon.duckdb
run: $(STAMP)
	$(BIN)/newsmon run

## Scheduled operation until Ctrl-C: adaptive polling, alerts, source health (Prefect UI on :4200)
serve: $(STAMP)
	$(BIN)/newsmon serve

# Three test processes on two cores: the end-to-end tests spend much of their time waiting for
# the processes, servers and slow pages they start, and a third process fills those waits
# (benchmarks/README.md, "Test suite"). Files are handed out whole, in conftest's order.
PYTEST_PROCESSES ?= 3
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_PROCESSES) --dist loadfile --no-loadscope-reorder

## The whole test suite, slow end-to-end tests included (three processes, one test file each)
test: $(STAMP)
	$(PYTEST)

## The core: everything not marked slow (no Prefect, subprocesses or PostgreSQL), three processes
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

## Offline demo: three recorded outlets served on loopback, ingested into data/demo.duckdb
demo: $(STAMP)
	$(BIN)/newsmon demo

## Story deduplication: pairwise precision/recall/F1 on tests/dedup_eval (+ ../shared/corpora)
eval-dedup: $(STAMP)
	$(BIN)/python -m evaluation.dedup --orders 5

## Topic rules: precision and recall per language on tests/topics_eval (+ ../shared/corpora)
eval-rules: $(STAMP)
	$(BIN)/python -m evaluation.rules

## One event across languages: precision and recall of the join on tests/crosslang_eval
eval-crosslang: $(STAMP)
	$(BIN)/python -m evaluation.crosslang

## End-to-end throughput vs the extraction limit and a naive loop (not part of make test)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.pipeline_bench

## Extraction quality on ../shared/corpora: newsmon's path vs plain trafilatura (skips when absent)
eval: $(STAMP)
	$(BIN)/python -m evaluation.extraction

## Cost of placing one article at 1k/10k/100k stored articles, and index memory
bench-dedup: $(STAMP)
	$(BIN)/python -m benchmarks.dedup_bench

## How soon newsmon run and demo start working, with and without a Prefect server
bench-startup: $(STAMP)
	$(BIN)/python -m benchmarks.startup_bench --prefect-server

## Memory one compression bomb costs (gzip,gzip, 8 GiB inflated) beside an honest page
bench-bomb: $(STAMP)
	$(BIN)/python -m benchmarks.bomb_bench

## Analyst queries (counts, ILIKE search, topic and story joins, latest items) on 100k articles
bench-query: $(STAMP)
	$(BIN)/python -m benchmarks.query_bench --keep

## Offline checks of docker-compose.yml: the Compose Specification schema, then `config -q`
## (docker compose v2 when the plugin is installed, else docker-compose 1.29.2 from PyPI)
check-compose: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	@if docker compose version >/dev/null 2>&1; then \
		echo "docker compose -f docker-compose.yml config -q"; \
		docker compose -f docker-compose.yml config -q; \
	else \
		$(MAKE) -s --no-print-directory $(COMPOSE_V1) && \
		echo "$(COMPOSE_V1) -f docker-compose.yml config -q" && \
		$(COMPOSE_V1) -f docker-compose.yml config -q; \
	fi
	@echo "docker-compose.yml: schema and config checks passed"

# docker-compose 1.29.2 pins PyYAML<6 and jsonschema<4, which clash with Prefect's, so it lives
# in a venv of its own. PyYAML 5.4.1 has no wheel for Python 3.11 and its sdist only builds with
# Cython<3 and no build isolation. .ci/run builds it before the tests (an install step, not
# test time); tests/test_compose.py builds it under CI when it is still missing.
COMPOSE_V1_VENV := $(VENV)/tools/docker-compose-1.29.2
COMPOSE_V1 := $(COMPOSE_V1_VENV)/bin/docker-compose
COMPOSE_V1_PINS := docker-compose==1.29.2 PyYAML==5.4.1 jsonschema==3.2.0 docker==7.2.0 \
	attrs==26.1.0 bcrypt==5.0.0 certifi==2026.10.18 cffi==2.1.1 charset-normalizer==3.5.2 \
	cryptography==50.0.2 distro==1.9.0 dockerpty==0.4.1 docopt==0.6.2 idna==3.20 invoke==3.0.3 \
	paramiko==5.1.0 pycparser==3.12 PyNaCl==1.6.2 pyrsistent==0.20.0 python-dotenv==0.21.1 \
	requests==2.34.2 six==1.17.0 texttable==1.7.2 urllib3==2.8.0 websocket-client==0.59.0

## A compose CLI for the compose config tests where the docker compose plugin is missing
compose-cli: $(COMPOSE_V1)

$(COMPOSE_V1):
	$(PYTHON) -m venv $(COMPOSE_V1_VENV)
	$(COMPOSE_V1_VENV)/bin/python -m pip install -q setuptools==65.5.0 wheel==0.48.0 Cython==0.29.37
	$(COMPOSE_V1_VENV)/bin/python -m pip install -q --no-build-isolation PyYAML==5.4.1
	$(COMPOSE_V1_VENV)/bin/python -m pip install -q $(COMPOSE_V1_PINS)
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache data/demo.duckdb*
