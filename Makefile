# ticket-comms: `make run` and `make test` do all set-up on a fresh machine (Python 3.11+, Node.js).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install bench fuzz soak services clean

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

# The schema fuzzer of `make test`, longer: FUZZ_SECONDS of FUZZ_EXAMPLES cases per operation and role.
fuzz: install
	FUZZ_SECONDS=$${FUZZ_SECONDS:-1200} FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} scripts/with-services.sh \
		$(BIN)/pytest -q -s -p no:cacheprovider tests/robustness/test_fuzz.py

# Resources under steady mixed load must plateau (bench/soak.py; SOAK_SECONDS, SOCKETS, MESSAGE_RATE).
soak: install
	scripts/with-services.sh $(BIN)/python -m bench.soak

bench: install
	scripts/with-services.sh $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .data
