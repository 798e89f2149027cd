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

.PHONY: run demo test lint format bench openapi install sam-validate terminal-wheel clean

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

$(XTQUANT_WHEEL): constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: "xtquant==$(XTQUANT_VERSION)" --dest $(VENV)/vendor
	@touch $@

## make terminal-wheel: build the terminal agent's wheel into dist/ (what a trader installs next to miniQMT)
terminal-wheel: $(STAMP)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist ./terminal
	@ls dist/quantlink_terminal-*.whl

## make run: start the local stack (moto + API Gateway emulator) and print the URLs and a demo login
run: $(STAMP)
	$(PY) -m quantlink_local

## make demo: with `make run` going, send one signal through the relay and print its timeline
demo: $(STAMP)
	$(PY) -m quantlink_local.demo

## make test: the whole suite (unit, integration on moto, e2e on the local stack)
test: $(STAMP)
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
bench: $(STAMP)
	$(PY) tests/bench/run.py --write docs/PERFORMANCE.md

## make openapi: regenerate docs/openapi.json from the code (a test fails when it is stale)
openapi: $(STAMP)
	$(PY) -m quantlink.api.contract > docs/openapi.json

## make sam-validate: `sam validate --lint` in its own venv (aws-sam-cli pins its own boto3)
sam-validate:
	@test -x .venv-sam/bin/sam || ($(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install --quiet aws-sam-cli)
	AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate --lint --template template.yaml

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache dist terminal/build
