"""Helpers for the distributed tests: a tiny GAN config and a torchrun launcher that always
cleans up the processes it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# No BatchNorm anywhere, so a sample's gradient does not depend on its batch-mates: one
# process with batch 8 and two with 4 each compute the same mean gradient.
TINY_GAN = """
[generator]
name = "dcgan"
latent_dim = 8
image_size = 16
width = 8
norm = "none"

[discriminator]
name = "dcgan"
image_size = 16
width = 8
batch_norm = false

[loss]
name = "hinge"

[data]
name = "shapes"
image_size = 16
num_classes = 4
per_class = 8

[train]
steps = 8
batch_size = 8
seed = 3
log_every = 2
sample_every = 0
sample_count = 4
checkpoint_every = 0
progress = false
device = "cpu"

[train.distributed]
timeout = 60
"""

LAUNCH_TIMEOUT = 120  # seconds; a hang fails the test instead of blocking the suite


def write_config(folder: Path, text: str = TINY_GAN, name: str = "run.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def torchrun(args: list[str], cwd: Path, nproc: int = 2) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node NPROC ARGS`` in ``cwd``, one thread a process.

    The launcher and its workers run in their own session; if they outlive the timeout the
    whole group is killed, so no process is left behind. torchrun's ``--standalone`` picks a
    free port by binding and releasing it, which another program on a busy machine can take
    in between: that one failure is retried once."""
    done = _torchrun_once(args, cwd, nproc)
    if done.returncode and "EADDRINUSE" in done.stderr:
        done = _torchrun_once(args, cwd, nproc)
    return done


def _torchrun_once(args: list[str], cwd: Path, nproc: int) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun did not finish in {LAUNCH_TIMEOUT} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def max_param_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Largest absolute difference between two checkpoints' network weights."""
    assert set(a["networks"]) == set(b["networks"])
    worst = 0.0
    for name, state in a["networks"].items():
        other = b["networks"][name]
        assert set(state) == set(other)
        for key, value in state.items():
            diff = (value.double() - other[key].double()).abs().max().item()
            worst = max(worst, diff)
    return worst
