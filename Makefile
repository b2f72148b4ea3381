# One command to run the vault, one to run the tests; each sets itself up.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
NODE    := hardhat-node/node_modules/.package-lock.json
DATADIR ?= .datavault
# Tests in three workers (pytest-xdist): on two cores the integration tests mostly wait on
# nodes and anchors, so a third worker pays. Work stealing: a few tests take a minute, and an
# idle worker takes queued tests from a busy one. XDIST= runs them in one process.
XDIST   ?= -n 3 --dist worksteal

.PHONY: run demo test test-unit test-integration install contracts bench lint clean

run: install  ## run the vault on the embedded default (SQLite + anvil in $(DATADIR))
	$(BIN)/datavault --datadir $(DATADIR) up $(ARGS)

demo: install  ## seed sample data into the running vault
	$(BIN)/datavault --datadir $(DATADIR) demo

test: install  ## the whole suite: unit, then integration on anvil, hardhat, PostgreSQL and Chromium
	@set -e; chromium=$$(scripts/chromium.sh); url=$$(scripts/postgres.sh start); trap 'scripts/postgres.sh stop' EXIT; \
	DATAVAULT_TEST_CHROMIUM=$$chromium DATAVAULT_TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest -q $(XDIST) $(PYTEST_ARGS)

test-unit: install  ## fast: in-process chain and SQLite only
	$(BIN)/python -m pytest -q $(XDIST) tests/unit $(PYTEST_ARGS)

test-integration: install  ## real nodes (anvil, hardhat), a throwaway PostgreSQL, Chromium for the pages
	@set -e; chromium=$$(scripts/chromium.sh); url=$$(scripts/postgres.sh start); trap 'scripts/postgres.sh stop' EXIT; \
	DATAVAULT_TEST_CHROMIUM=$$chromium DATAVAULT_TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest -q $(XDIST) tests/integration $(PYTEST_ARGS)

install: $(STAMP) $(NODE)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(NODE): hardhat-node/package.json hardhat-node/package-lock.json
	cd hardhat-node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

contracts: install  ## recompile Solidity and rewrite contracts/artifacts
	$(BIN)/python -m chain.compiler

bench: install  ## gas of every contract function -> bench/*GAS.md; presentation sizes -> bench/PRESENTATION.md
	$(BIN)/python bench/gas.py
	$(BIN)/python bench/consent_gas.py
	$(BIN)/python bench/audit_gas.py
	$(BIN)/python bench/presentation_size.py
	$(BIN)/python bench/presentation_verify.py

lint: install  ## ruff (rules in pyproject.toml), the formatting ruff format gives, mypy --strict
	$(BIN)/ruff check vault api chain keys tests bench
	$(BIN)/ruff format --check vault api chain keys tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) hardhat-node/node_modules
