# `make demo` and `make test` each create .venv (Python 3.8-3.10, as allennlp 2.10.1 needs) when it is
# missing, install this package into it (editable, with test extras), then run.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-quick venv clean

# The demo rewrites its own outputs in demo_output/ (--force), and keeps the trained downstream model there.
demo: $(STAMP)
	$(VENV)/bin/compress-elmo demo --output-dir demo_output --force

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

# Everything but the tests marked slow (training runs, archives, sweeps, the downstream demo).
test-quick: $(STAMP)
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS) tests

venv: $(STAMP)

# Candidates: PYTHON if given, the usual names on PATH, then pyenv's versions folder and /usr/bin.
# A pyenv shim can exist and still fail to run, so each candidate is run, not just looked up.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYTHON_CANDIDATES := $(PYTHON) python3.10 python3.9 python3.8 python3 \
	$(sort $(wildcard $(PYENV_ROOT)/versions/3.10*/bin/python3)) \
	$(sort $(wildcard $(PYENV_ROOT)/versions/3.[89]*/bin/python3)) \
	/usr/bin/python3.10 /usr/bin/python3.9 /usr/bin/python3.8
find-python = $(firstword $(foreach p,$(PYTHON_CANDIDATES), \
	$(shell $(p) -c 'import sys; print("$(p)" if (3, 8) <= sys.version_info[:2] <= (3, 10) else "")' 2>/dev/null)))

$(STAMP): setup.py
	@python="$(call find-python)"; \
	if [ -z "$$python" ]; then echo "error: no Python 3.8-3.10 found (allennlp 2.10.1 needs one); set PYTHON=/path/to/python3.10" >&2; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) demo_output *.egg-info
