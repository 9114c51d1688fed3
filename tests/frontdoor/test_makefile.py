"""`make demo` installs the runtime only; `make test` adds the dev extras, even after a demo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _plan(target: str, venv: Path) -> str:
    """The commands `make TARGET` would run (dry run: nothing is installed)."""
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, f"VENV={venv}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_demo_installs_the_runtime_only(tmp_path):
    plan = _plan("demo", tmp_path / "venv")
    assert "pip install -c constraints.txt -e ." in plan
    assert "[dev]" not in plan and "pytorch-fid" not in plan
    assert "gst stylize --demo" in plan


def test_test_adds_the_dev_extras_even_after_a_demo(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()  # as `make demo` leaves it
    plan = _plan("test", venv)
    assert '-e ".[dev]"' in plan and "pytest tests" in plan
    assert "pip install -c constraints.txt torch" not in plan  # the runtime is not redone
