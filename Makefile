# Two commands a new user needs: `make demo` (set up, then stylize the built-in
# sample images) and `make test` (set up, then run the test suite).
# Set-up installs the pinned torch first (constraints.txt), so a machine with
# no GPU gets the CPU build instead of gigabytes of CUDA packages.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints.txt torch
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/gst stylize --demo -o stylized.png

test: setup
	$(BIN)/python -m pytest tests

bench: setup
	$(BIN)/python -m pytest benchmarks

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks .hypothesis
