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
	# Reference FID/KID code for tests/metrics, read from source and never imported: without
	# their dependencies (torchvision), which the pinned CPU torch cannot have.
	$(BIN)/python -m pip install --no-deps pytorch-fid==0.3.0 clean-fid==0.1.35
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
