# ticket-comms: `make run` and `make test` do all set-up on a fresh machine (Python 3.11+, Node.js).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-repeat lint install bench fuzz soak services clean web web-check chromium screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The web app: npm ci when the lock changes, a build only when its sources changed (else `run` starts at once).
WEB := web
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_STAMP := $(WEB)/dist/.build-stamp
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(wildcard $(WEB)/index.html $(WEB)/package.json $(WEB)/vite.config.ts $(WEB)/tsconfig.json)

$(WEB_DEPS): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	touch $@

web: $(WEB_STAMP)

web-check: $(WEB_DEPS)
	cd $(WEB) && npx tsc --noEmit -p . && npx eslint . && npx vitest run

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

run: install web
	$(BIN)/ticket-comms serve

screenshots: install web chromium
	$(BIN)/python scripts/screenshots.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# The browser tests run in a pytest process of their own: Playwright's sync API leaves an event loop
# running in the main thread, and every asyncio test collected after it would then fail to start.
test: install lint web-check web chromium
	scripts/with-services.sh $(BIN)/pytest -q -p no:cacheprovider --ignore=tests/e2e
	scripts/with-services.sh $(BIN)/pytest -q -p no:cacheprovider tests/e2e

# The schema fuzzer of `make test`, longer: FUZZ_SECONDS of FUZZ_EXAMPLES cases per operation and role.
fuzz: install
	FUZZ_SECONDS=$${FUZZ_SECONDS:-1200} FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} scripts/with-services.sh \
		$(BIN)/pytest -q -s -p no:cacheprovider tests/robustness/test_fuzz.py

# Resources under steady mixed load must plateau (bench/soak.py; SOAK_SECONDS, SOCKETS, MESSAGE_RATE).
soak: install
	scripts/with-services.sh $(BIN)/python -m bench.soak

# The real-time tests REPEAT times in a row (fresh process, fresh app each time), stopping at the first
# failure: how an intermittent failure is found, and how its fix is proven, before it reaches CI.
REPEAT ?= 20
test-repeat: install
	@for i in $$(seq $(REPEAT)); do \
	  echo "== realtime run $$i of $(REPEAT)"; \
	  scripts/with-services.sh $(BIN)/pytest -q -p no:cacheprovider -x tests/realtime || exit 1; \
	done; echo "== $(REPEAT) runs of tests/realtime passed"

bench: install
	scripts/with-services.sh $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .data $(WEB)/node_modules $(WEB)/dist
