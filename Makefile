VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test test-all bench lint install

$(VENV)/bin/activate:
	python3 -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install -q -e '.[viz,vision]'
	$(PY) -m compileall -q src >/dev/null  # bytecode now: `import dagrad` stays fast
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test,viz,vision]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m dagrad tutorial

test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n 2 tests

test-all: $(VENV)/.installed-test
	$(PY) -m pytest -q -n 2 -m '' tests

bench: $(VENV)/.installed-test
	$(PIP) install -q -e '.[bench]'
	$(PY) benchmarks/run.py

lint: $(VENV)/.installed-test
	$(PIP) install -q ruff
	$(VENV)/bin/ruff check src tests
