# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv with Python >= 3.12 when it is missing, then install.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python >= 3.12: $PYTHON, pyenv's, or python3.13/python3.12/python3 on PATH.
PYTHON ?= $(shell for c in "$$(pyenv root 2>/dev/null)/versions/$$(cat .python-version 2>/dev/null)/bin/python" \
	python3.13 python3.12 python3; do \
	p=$$(command -v "$$c" 2>/dev/null) || continue; \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; \
	done)

.PHONY: run test lint types contracts pytest screenshot clean bench

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python >= 3.12 not found: install it (e.g. pyenv install 3.12) or set PYTHON=/path/to/python3.12" >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/necstgen-desk

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP)
	$(VENV)/bin/mypy

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

test: lint types contracts pytest

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/necstgen-desk --screenshot docs/screenshot.png --after 30

bench: $(STAMP)
	$(PY) benchmarks/poll.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
