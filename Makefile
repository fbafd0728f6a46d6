# The few commands a person needs. Each target sets up .venv itself (idempotent: a stamp file
# records the install, so repeated runs are quick). Editable install, so compiled kernels
# (*.so, gitignored) land next to their .py sources.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/pip
PYTEST_ARGS ?=

# Reinstall (and so recompile the kernels) whenever the build config or a kernel changes:
# a stale .so would otherwise shadow an edited *_kernel.py.
KERNELS     := $(shell find plugins -name '*_kernel.py' -o -name '*.pxd' 2>/dev/null)
BUILD_INPUTS := pyproject.toml setup.py $(KERNELS)

STAMP_TEST := $(VENV)/.pyarc-stamp-test
STAMP_LINT := $(VENV)/.pyarc-stamp-lint
STAMP_BENCH := $(VENV)/.pyarc-stamp-bench

.PHONY: all run test bench fuzz fuzz-reader lint clean venv

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP_TEST): $(BIN)/python $(BUILD_INPUTS)
	$(PIP) install -e '.[test]'
	touch $@

$(STAMP_LINT): $(STAMP_TEST)
	$(PIP) install -e '.[test,lint]'
	touch $@

$(STAMP_BENCH): $(STAMP_TEST)
	$(PIP) install -e '.[test,bench]'
	touch $@

venv: $(STAMP_TEST)

run: $(STAMP_TEST)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP_TEST)
	PYARC_REQUIRE_COMPILED=1 $(BIN)/pytest -q $(PYTEST_ARGS)

# `pyarc bench` on the Calgary corpus (../shared/corpus/calgary) when present, else on built-in
# demo data, plus the lz77 level curve and the container's figures: build/bench.md, the chart
# build/bench.png and the raw results build/bench.json. BENCH_REPEAT=1 for a quicker run.
bench: $(STAMP_BENCH)
	$(BIN)/python bench/bench.py

# FUZZ_ARGS, e.g. "--archives 100000 --payloads 10000 --seed 7"; see tests/fuzzing.py.
FUZZ_ARGS ?=
fuzz: $(STAMP_TEST)
	$(BIN)/python tests/fuzzing.py $(FUZZ_ARGS)

# Coverage-guided fuzzing of the readers with atheris, FUZZ_SECONDS long (findings stop it and
# are written as crash-* files).
FUZZ_SECONDS ?= 300
fuzz-reader: $(STAMP_TEST)
	$(PIP) install -q -e '.[test,fuzz]'
	mkdir -p build/fuzz-corpus && cp spec/vectors/1.0/good/*.pyarc spec/vectors/2.0/good/*.pyarc build/fuzz-corpus/
	$(BIN)/python tests/fuzz_reader_atheris.py build/fuzz-corpus -max_total_time=$(FUZZ_SECONDS)

lint: $(STAMP_LINT)
	$(BIN)/ruff check .
	mkdir -p build/typecheck && ln -sfn ../../plugins build/typecheck/pyarc_plugins
	$(BIN)/mypy -p archiver -p pyarc_plugins

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find archiver plugins -name '*.so' -delete
	find plugins -name '*_kernel.c' -delete
	find archiver plugins tests -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f $(STAMP_TEST) $(STAMP_LINT) $(STAMP_BENCH)
