# Two commands a new user needs: `make demo` (set up, then stylize the built-in
# sample images) and `make test` (set up, then run the test suite).
# Set-up installs the pinned torch first (constraints.txt), so a machine with
# no GPU gets the CPU build instead of gigabytes of CUDA packages.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench lint clean

setup: $(VENV)/.installed

# The runtime only: what `gst stylize --demo` and every other command needs.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints.txt torch
	$(BIN)/python -m pip install -c constraints.txt -e .
	touch $@

# The test tools and the optional extras the tests cover, on top of the runtime. Its own
# stamp, so `make test` after `make demo` still installs them.
$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -c constraints.txt -e ".[dev]"
	# Reference FID/KID code for tests/metrics, read from source and never imported: without
	# their dependencies (torchvision), which the pinned CPU torch cannot have.
	$(BIN)/python -m pip install --no-deps pytorch-fid==0.3.0 clean-fid==0.1.35
	touch $@

demo: setup
	$(BIN)/gst stylize --demo -o stylized.png

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests

bench: $(VENV)/.dev-installed
	$(BIN)/python -m pytest benchmarks

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks .hypothesis
