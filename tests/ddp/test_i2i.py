"""Image-to-image objectives under torchrun (2 processes, gloo): pix2pix equals one process
with the same global batch; CycleGAN's four networks train under DDP and its checkpoint
loads in one process."""

from __future__ import annotations

import json
from pathlib import Path

from gst_core.checkpoint import load_checkpoint
from gst_core.training.build import build_trainer
from tests.ddp.conftest import max_param_diff, torchrun

WORKER = Path(__file__).with_name("i2i_worker.py")

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


def configs(folder: Path) -> dict:
    # No norm and no dropout: a sample's loss does not depend on its batch-mates or on a
    # per-process random mask. (Instance norm gives the same outputs too, but the conv biases
    # it cancels get gradients of pure rounding noise, which Adam turns into full-size steps
    # of arbitrary sign: those biases differ by ~1e-4 while doing nothing.) No flips: the
    # dataset draws them per item from the global RNG, so 1 x 8 and 2 x 4 would differ.
    pix2pix = {
        "generator": {"name": "unet", "num_downs": 5, "width": 4, "norm": "none",
                      "dropout": 0.0},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2, "norm": "none"},
        "data": {"name": "paired_shapes", "image_size": 32, "count": 16, "flip": False},
        "train": {**TRAIN, "steps": 8, "run_dir": str(folder / "pix2pix")},
    }  # fmt: skip
    cyclegan = {
        "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "data": {"name": "unpaired_shapes", "image_size": 16, "count": 16},
        "objective": {"pool_size": 3},
        "train": {**TRAIN, "steps": 3, "run_dir": str(folder / "cyclegan")},
    }
    return {"pix2pix": pix2pix, "cyclegan": cyclegan}


def test_i2i_objectives_under_ddp(tmp_path):
    two = tmp_path / "two"
    two.mkdir()
    (two / "configs.json").write_text(json.dumps(configs(two)))
    done = torchrun([str(WORKER), str(two)], cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr

    # pix2pix: 2 processes x 4 pairs = 1 process x 8 pairs, 8 steps.
    config = configs(tmp_path / "one")["pix2pix"]
    one = build_trainer(config, "pix2pix").fit().state_dict()
    ddp = load_checkpoint(two / "pix2pix")
    assert ddp["step"] == 8
    assert max_param_diff(one, ddp) < 1e-6
    start = build_trainer(config, "pix2pix").state_dict()
    assert max_param_diff(start, ddp) > 1e-4  # it did train

    # CycleGAN: four networks, each in its own DDP; the checkpoint holds plain weights, so
    # one process resumes it.
    cyclegan = load_checkpoint(two / "cyclegan")
    assert cyclegan["step"] == 3
    assert set(cyclegan["networks"]) == {"g_ab", "g_ba", "d_a", "d_b"}
    resumed = build_trainer(configs(tmp_path / "resume")["cyclegan"], "cyclegan")
    resumed.load_state_dict(cyclegan)
    assert resumed.step == 3
