# order-exceptions: `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SPARK_STAMP := $(VENV)/.spark-installed-stamp
ORDERS ?= 100000
DAYS ?= 91
MERCHANTS ?= 8
SEED ?= 1
# Test files run side by side, one per core (a file's tests share its fixtures, so files
# are the unit); TEST_WORKERS=0 runs them one after the other.
TEST_WORKERS ?= auto

# No telemetry leaves the machine, and every path is absolute (see pipelines/settings.py).
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# One "planned" event per asset of a range run, not one per day (see pipelines/cli.py).
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := true
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export OEX_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
export OEX_DUCKDB_TEMP ?= $(CURDIR)/data/tmp
# OEX_ENGINE=spark builds dbt on Apache Spark (README, "Scaling out"): every target that runs
# dbt then installs the spark extra and Java first.
OEX_ENGINE ?= duckdb
ENGINE_INSTALL := $(if $(filter spark,$(OEX_ENGINE)),install-spark)

.PHONY: help install install-spark manifest generate pipeline demo dashboard dev evaluate export import-history test test-spark lint docs clean bench fuzz

help: ## List every target
	@if [ -t 1 ]; then bold="\033[1m"; plain="\033[0m"; fi; \
	grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
	awk -F':.*## ' -v b="$$bold" -v p="$$plain" '{printf "  %s%-14s%s %s\n", b, $$1, p, $$2}'

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

install: $(STAMP) $(DAGSTER_HOME)/dagster.yaml ## Create .venv if missing and install the project with its dev tools

# Java first: pyspark starts a JVM. apt needs root (CI runs as root); otherwise say what to do.
$(SPARK_STAMP): $(STAMP)
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; \
	  else echo "Spark needs Java 17: sudo apt-get install openjdk-17-jre-headless"; exit 1; fi; }
	$(BIN)/pip install --quiet -e ".[dev,spark]"
	@touch $(SPARK_STAMP)

install-spark: install $(SPARK_STAMP) ## Install the spark extra (dbt-spark, pyspark; a few minutes) and Java 17 when missing

manifest: install $(ENGINE_INSTALL) ## Parse the dbt project into target/manifest.json (Dagster loads it, never builds it at import)
	$(BIN)/python -m pipelines.settings

generate: install ## Write sample data into data/inbox (ORDERS, DAYS, MERCHANTS, SEED)
	$(BIN)/oex generate --orders $(ORDERS) --days $(DAYS) --merchants $(MERCHANTS) --seed $(SEED)

pipeline: manifest ## Generate sample data if the inbox is empty, then ingest, check, build and export the marts
	@if [ -z "$$(find data/inbox -type f ! -name .gitkeep -print -quit)" ]; then $(MAKE) --no-print-directory generate; fi
	$(BIN)/oex run

demo: pipeline ## `make pipeline`, then serve the dashboard on http://localhost:8501
	$(BIN)/oex dashboard

dashboard: install ## Serve the dashboard on http://localhost:8501 from the exported marts
	$(BIN)/oex dashboard

dev: manifest ## Run `dagster dev` with the whole code location (UI on http://localhost:3000)
	$(BIN)/dagster dev -m pipelines.definitions

evaluate: install ## Detection accuracy against the generator's truth (accuracy.json) and the risks replayed (risk.json)
	$(BIN)/oex evaluate

export: install ## Write the merchants' report files of a week: make export WEEK=2026-W46 [MERCHANT=M001]
	@test -n "$(WEEK)" || { echo "Say which ISO week: make export WEEK=2026-W46"; exit 2; }
	$(BIN)/oex export --week $(WEEK) $(if $(MERCHANT),--merchant $(MERCHANT))

import-history: manifest ## Load every file in the inbox at once (years of history), full rebuild
	$(BIN)/oex import-history

test: manifest ## Run the whole test suite (about 16 minutes on 2 cores; needs chromium, see README)
	@bash .ci/prerequisites
	$(BIN)/ruff check pipelines dashboards tests
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-spark: install-spark ## Build a generated sample on Spark and on DuckDB, full then one daily run, and compare every mart (about 6 minutes)
	$(BIN)/pytest -p no:xdist tests/spark

fuzz: install ## Fuzz the readers and contract checks with many random files (OEX_FUZZ_EXAMPLES, default 2000)
	OEX_FUZZ_EXAMPLES=$${OEX_FUZZ_EXAMPLES:-2000} $(BIN)/pytest -p no:xdist -q tests/defs/ingestion/test_fuzzing.py

bench: manifest ## Benchmark at 1M and 10M orders (long; never part of make test)
	$(BIN)/oex bench

lint: install ## Lint Python (ruff) and SQL (sqlfluff)
	$(BIN)/ruff check pipelines dashboards tests
	$(BIN)/ruff format --check pipelines dashboards tests
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests

docs: manifest ## Build the dbt docs into dbt_project/target/static_index.html (opens from disk)
	cd dbt_project && ../$(BIN)/dbt docs generate --static

clean: ## Remove generated data, the warehouse and build output (keeps .venv)
	rm -rf data/warehouse.duckdb* data/marts data/truth data/reports data/exports data/tmp data/landing \
	       data/lake data/spark data/models \
	       dbt_project/target dbt_project/logs .dagster_home test-output
	find data/inbox -mindepth 1 ! -name .gitkeep -delete
