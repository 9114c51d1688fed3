"""Objectives under torchrun (2 processes, gloo), all trained in one launch:

* pix2pix on 2 x 4 pairs equals 1 process x 8 pairs after 8 steps;
* CycleGAN's four networks train under DDP and its checkpoint resumes in one process;
* a GAN run of 4 steps on 1 process, resumed for 4 more on 2, equals 8 steps on 1;
* a stop asked for by a callback on rank 0 stops both processes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

from gst_core.checkpoint import load_checkpoint
from gst_core.config import load_toml
from gst_core.training.build import build_trainer
from tests.ddp.conftest import max_param_diff, torchrun, write_config

WORKER = Path(__file__).with_name("runs_worker.py")

TRAIN = {
    "batch_size": 8,
    "seed": 5,
    "progress": False,
    "sample_every": 0,
    "checkpoint_every": 0,
    "sample_count": 4,
    "device": "cpu",
    "distributed": {"timeout": 60},
}


def pix2pix_config(run_dir: Path) -> dict:
    # No norm and no dropout: a sample's loss does not depend on its batch-mates or on a
    # per-process random mask. (Instance norm gives the same outputs too, but the conv biases
    # it cancels get gradients of pure rounding noise, which Adam turns into full-size steps
    # of arbitrary sign: those biases differ by ~1e-4 while doing nothing.) No flips: each
    # process draws its own (distributed.data_rng), so 1 x 8 and 2 x 4 would differ.
    return {
        "generator": {"name": "unet", "num_downs": 5, "width": 4, "norm": "none",
                      "dropout": 0.0},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2, "norm": "none"},
        "data": {"name": "paired_shapes", "image_size": 32, "count": 16, "flip": False},
        "train": {**TRAIN, "steps": 8, "run_dir": str(run_dir)},
    }  # fmt: skip


def cyclegan_config(run_dir: Path) -> dict:
    return {
        "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "data": {"name": "unpaired_shapes", "image_size": 16, "count": 16},
        "objective": {"pool_size": 3},
        "train": {**TRAIN, "steps": 3, "run_dir": str(run_dir)},
    }


def gan_config(folder: Path, steps: int, run_dir: Path) -> dict:
    config = load_toml(write_config(folder))
    config["train"].update(steps=steps, run_dir=str(run_dir))
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The folder where two processes trained every job."""
    folder = tmp_path_factory.mktemp("two")
    # The GAN's first half on one process, here; torchrun resumes it on two.
    build_trainer(gan_config(folder, 4, folder / "gan"), "gan").fit()
    jobs = [
        {"objective": "pix2pix", "config": pix2pix_config(folder / "pix2pix")},
        {"objective": "cyclegan", "config": cyclegan_config(folder / "cyclegan")},
        {
            "objective": "gan",
            "config": gan_config(folder, 8, folder / "gan"),
            "resume": str(folder / "gan"),
        },
        # A callback on rank 0 asks to stop after step 3 of 8.
        {"objective": "gan", "config": gan_config(folder, 8, folder / "stop"), "stop_at": 3},
    ]
    (folder / "jobs.json").write_text(json.dumps(jobs))
    done = torchrun([str(WORKER), str(folder)], cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return folder


def test_pix2pix_two_processes_match_one(runs, tmp_path):
    config = pix2pix_config(tmp_path / "one")
    start = build_trainer(copy.deepcopy(config), "pix2pix").state_dict()
    one = build_trainer(config, "pix2pix").fit().state_dict()
    two = load_checkpoint(runs / "pix2pix")
    assert two["step"] == 8
    assert max_param_diff(one, two) < 1e-6
    assert max_param_diff(start, two) > 1e-4  # it did train


def test_cyclegan_four_networks_under_ddp(runs, tmp_path):
    """Each of the four networks in its own DDP; the checkpoint holds plain weights, so one
    process resumes it."""
    saved = load_checkpoint(runs / "cyclegan")
    assert saved["step"] == 3
    assert set(saved["networks"]) == {"g_ab", "g_ba", "d_a", "d_b"}
    resumed = build_trainer(cyclegan_config(tmp_path / "resume"), "cyclegan")
    resumed.load_state_dict(saved)
    assert resumed.step == 3
    start = build_trainer(cyclegan_config(tmp_path / "start"), "cyclegan").state_dict()
    assert max_param_diff(start, saved) > 1e-4


def test_gan_resume_on_another_process_count(runs, tmp_path):
    """4 steps on 1 process + 4 on 2 = 8 on 1: the sampler's position and the RNG are global."""
    # state_dict() records the RNG as it is now: take it right after fit().
    reference = build_trainer(gan_config(tmp_path, 8, tmp_path / "eight"), "gan").fit()
    reference = reference.state_dict()
    resumed = load_checkpoint(runs / "gan")
    assert resumed["step"] == 8 and resumed["batches"] == 8
    assert max_param_diff(reference, resumed) < 1e-6
    assert torch.equal(resumed["rng"]["torch"], reference["rng"]["torch"])


def test_a_stop_on_rank_zero_stops_every_process(runs):
    """Rank 1 has no callbacks; it stops at rank 0's step 3 instead of waiting for it at 4."""
    assert load_checkpoint(runs / "stop")["step"] == 3
