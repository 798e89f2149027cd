# QuantLink: everything a newcomer needs, on a fresh machine, with no AWS account and no Docker.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FUNCTIONS := $(wildcard functions/*/app.py)
# The xtquant wheel the terminal tests run the vendor's own xttrader from (test-only, never installed;
# its version is pinned in constraints.txt).
XTQUANT_VERSION := $(shell sed -n 's/^xtquant==//p' constraints.txt)
XTQUANT_WHEEL := $(VENV)/vendor/xtquant-$(XTQUANT_VERSION)-py3-none-any.whl

.PHONY: run demo reset test lint format bench openapi install sam-validate terminal-wheel clean web web-test deploy

# constraints.txt pins every dependency to the versions the suite last passed with (regenerate:
# `.venv/bin/pip freeze --exclude-editable > constraints.txt` after an intended upgrade, then put back the
# test-only xtquant line at its end).
$(STAMP): pyproject.toml constraints.txt $(wildcard terminal/pyproject.toml) $(XTQUANT_WHEEL)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@if [ -f terminal/pyproject.toml ]; then $(PY) -m pip install --quiet -c constraints.txt -e terminal; fi
	@touch $(STAMP)

install: $(STAMP)

# ---- the owner SPA (web/): Node 20.19+ and npm; versions pinned by web/package-lock.json ----------
WEB_DEPS := web/node_modules/.installed
WEB_DIST := web/dist/index.html
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

# npm ci when node_modules is missing or the lockfile changed.
$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20.19+ (it brings npm)" >&2; exit 2; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_DIST): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build

## make web: build the SPA to web/dist when its sources or the lockfile changed
web: $(WEB_DIST)

## make web-test: the SPA's type check (vue-tsc) and unit tests (Vitest)
web-test: $(WEB_DEPS)
	cd web && npm run --silent typecheck
	cd web && npm run --silent test

$(XTQUANT_WHEEL): constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: "xtquant==$(XTQUANT_VERSION)" --dest $(VENV)/vendor
	@touch $@

## make terminal-wheel: build the terminal agent's wheel into dist/ (what a trader installs next to miniQMT)
terminal-wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist ./terminal
	@ls dist/quantlink_terminal-*.whl

## make run: start the local stack (moto + API Gateway emulator) and print the URLs and a demo login;
## its state is kept in .quantlink/ (or $QUANTLINK_DATA_DIR) across restarts
run: $(STAMP) $(WEB_DIST)
	$(PY) -m quantlink_local

## make demo: with `make run` going, send one signal through the relay and print its timeline
## (it reuses its demo strategy and terminal from one run to the next)
demo: $(STAMP)
	$(PY) -m quantlink_local.demo

## make reset: wipe the local stack's data directory (.quantlink/, or $QUANTLINK_DATA_DIR) after
## asking; `make reset YES=1` does not ask
reset: $(STAMP)
	$(PY) -m quantlink_local --reset $(if $(YES),--yes,)

## make test: the whole suite: the SPA's type check and unit tests, then pytest (unit, integration
## on moto, e2e on the local stack, the SPA in headless Chromium)
test: $(STAMP) web-test $(WEB_DIST)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/core/quantlink infra/quantlink_local
	@for f in $(FUNCTIONS); do $(VENV)/bin/mypy $$f || exit 1; done
	cd terminal && ../$(VENV)/bin/mypy quantlink_terminal

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: relay latency / throughput / fan-out / cold import / injection, as ratios to floors
bench: $(STAMP) $(WEB_DIST)
	$(PY) tests/bench/run.py --write docs/PERFORMANCE.md

## make openapi: regenerate docs/openapi.json from the code (a test fails when it is stale)
openapi: $(STAMP)
	$(PY) -m quantlink.api.contract > docs/openapi.json

## make deploy: sam build + sam deploy, then the SPA to the stack's WebBucket with its config.json
## (CONFIG_ENV=staging for another samconfig.toml profile; needs AWS credentials, aws and sam)
deploy: $(WEB_DIST)
	web/scripts/deploy.sh

## make sam-validate: `sam validate --lint` in its own venv (aws-sam-cli pins its own boto3)
sam-validate:
	@test -x .venv-sam/bin/sam || ($(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet aws-sam-cli)
	AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate --lint --template template.yaml

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist .artifacts dist terminal/build
