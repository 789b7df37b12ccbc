# ticket-comms: `make run` and `make test` do all set-up on a fresh machine (Python 3.11+, Node.js).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install bench services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ticket-comms serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install lint
	scripts/with-services.sh $(BIN)/pytest -q -p no:cacheprovider

bench: install
	scripts/with-services.sh $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .data
