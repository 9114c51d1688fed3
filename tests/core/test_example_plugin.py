"""The example plugin in examples/plugin-example, installed and uninstalled with pip for real.

The plugin goes into a throw-away virtual environment layered over the
current one (so torch and gst need no reinstall), which keeps the developer's
own environment untouched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugin-example"


def run(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def layered_python(tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("plugin-venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # An "import" line in a .pth file runs at start-up; addsitedir also honours
    # the parent environment's own .pth files (gst's editable install among them).
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib.stdout.strip(), "parent-env.pth").write_text(
        f"import site; site.addsitedir({parent!r})\n"
    )
    return python


def pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def listed(python: Path) -> dict:
    done = run(python, "-m", "gst_core", "plugins", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {(r["kind"], r["name"]): r for r in json.loads(done.stdout)}


USE_BOTH = """
import torch, gst_core
loss = gst_core.losses.build("charbonnier", eps=1e-3)
gen = gst_core.generators.build({"name": "example_mlp", "latent_dim": 8, "size": 4})
images = gen(gen.sample_latent(2))
print(tuple(images.shape), float(images.abs().max()) <= 1.0)
print(float(loss(torch.tensor([3.0]), torch.tensor([0.0]))))
"""


def test_example_plugin_is_discovered_built_and_removed(layered_python, tmp_path):
    assert ("loss", "charbonnier") not in listed(layered_python)

    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = shutil.copytree(EXAMPLE, tmp_path / "plugin-example")
    pip(layered_python, "install", "--no-deps", "--no-build-isolation", str(source))
    rows = listed(layered_python)
    loss, gen = rows[("loss", "charbonnier")], rows[("generator", "example_mlp")]
    assert (loss["distribution"], loss["version"], loss["status"]) == (
        "gst-plugin-example",
        "0.2.0",
        "ok",
    )
    assert (
        gen["target"] == "gst_plugin_example.mlp_generator:MLPGenerator" and gen["status"] == "ok"
    )

    used = run(layered_python, "-c", USE_BOTH)
    assert used.returncode == 0, used.stderr
    shape_line, value_line = used.stdout.splitlines()
    assert shape_line == "(2, 3, 4, 4) True"
    # sqrt(3^2 + 1e-6) = 3.0000001666...
    assert float(value_line) == pytest.approx(3.0, abs=1e-6)

    pip(layered_python, "uninstall", "-y", "gst-plugin-example")
    assert ("loss", "charbonnier") not in listed(layered_python)
    assert ("generator", "example_mlp") not in listed(layered_python)
