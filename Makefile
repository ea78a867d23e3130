# Two entry points (see README): `make quickstart` and `make test`. Both create .venv inside the checkout.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install quickstart test test-slow lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,test]'  # the library plus the sweep and report extras and the test tools
	touch $(STAMP)

install: $(STAMP)

# The main job on the built-in world: 5 methods x 3 datasets through Ray Tune on the CPU, then the report.
quickstart: $(STAMP)
	$(VENV)/bin/comma-bench run sweeps/quickstart.yaml --output runs
	@echo "comma-bench is installed in $(VENV): run 'source $(VENV)/bin/activate' to put it on PATH (or call $(VENV)/bin/comma-bench)"

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m pytest benchmarks -q --benchmark-only --benchmark-json=benchmarks/results.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
