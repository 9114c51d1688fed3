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
        "0.3.0",
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

    for kind, name in (("objective", "example_moments"), ("dataset", "example_gradients")):
        row = rows[(kind, name)]
        assert (row["distribution"], row["status"]) == ("gst-plugin-example", "ok"), row

    train_its_objective_from_the_command_line(layered_python, tmp_path)

    pip(layered_python, "uninstall", "-y", "gst-plugin-example")
    rows = listed(layered_python)
    for kind, name in [("loss", "charbonnier"), ("generator", "example_mlp")] + [
        ("objective", "example_moments"),
        ("dataset", "example_gradients"),
    ]:
        assert (kind, name) not in rows


MOMENTS = """
[generator]
name = "example_mlp"
latent_dim = 4
size = 4
hidden = 16

[data]
name = "example_gradients"
count = 32
size = 4

[train]
steps = 6
batch_size = 8
ema_decay = 0.5
sample_every = 3
sample_count = 4
checkpoint_every = 3
progress = false
"""


def train_its_objective_from_the_command_line(python: Path, tmp_path: Path) -> None:
    """The plugin's objective and dataset go through `gst train`, resume and `gst sample`."""
    import torch

    config = tmp_path / "moments.toml"
    config.write_text(MOMENTS)
    run_dir = tmp_path / "moments-run"
    gst = [str(python), "-m", "gst_core"]
    done = subprocess.run(
        [*gst, "train", "example_moments", "--config", str(config), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["objective"] == "example_moments" and state["step"] == 6
    assert state["network_specs"]["generator"]["name"] == "example_mlp"
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "step_0000003.png",
        "step_0000006.png",
    ]
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert logged[-1]["step"] == 6 and logged[-1]["loss"] >= 0

    resumed = subprocess.run(
        [*gst, "train", "example_moments", "--resume", str(run_dir), "--steps", "8"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "at step 6" in resumed.stdout
    assert torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["step"] == 8

    grid = tmp_path / "grid.png"
    sampled = subprocess.run(
        [*gst, "sample", str(run_dir), "-n", "4", "-o", str(grid)], capture_output=True, text=True
    )
    assert sampled.returncode == 0 and grid.is_file(), sampled.stderr
