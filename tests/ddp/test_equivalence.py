"""Two processes under torchrun (gloo, CPU) train exactly as one process with the same global
batch: the same data, the same latents and the DDP-averaged gradient at every step."""

from __future__ import annotations

import json

from gst_core.checkpoint import load_checkpoint
from gst_core.config import load_toml
from gst_core.training.build import build_trainer
from tests.ddp.conftest import max_param_diff, torchrun, write_config


def train_one_process(config_path, run_dir, **overrides):
    trainer = build_trainer(
        load_toml(config_path), "gan", overrides={"run_dir": str(run_dir), **overrides}
    )
    return trainer.fit()


def test_gan_two_processes_match_one(tmp_path):
    config = write_config(tmp_path)
    one = train_one_process(config, tmp_path / "one").state_dict()
    done = torchrun(
        [
            "-m",
            "gst_core.cli",
            "train",
            "gan",
            "--config",
            str(config),
            "--run-dir",
            "two",
            "--threads",
            "1",
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    two = load_checkpoint(tmp_path / "two")
    assert two["step"] == 8
    # Same weights after 8 steps: only the order of float additions differs (DDP sums two
    # half-batch means where one process takes one mean).
    assert max_param_diff(one, two) < 1e-6
    # The updates were real: the weights moved far more than that.
    start = build_trainer(load_toml(config), "gan").state_dict()
    assert max_param_diff(start, two) > 1e-4

    # Rank 0 alone wrote and spoke: one metrics line per log step, averaged over processes.
    lines = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").open()]
    assert [r["step"] for r in lines] == [2, 4, 6, 8]
    single = [json.loads(line) for line in (tmp_path / "one" / "metrics.jsonl").open()]
    for mine, theirs in zip(lines, single, strict=True):
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert abs(mine[key] - theirs[key]) < 1e-5, key
    assert sorted(p.name for p in (tmp_path / "two" / "samples").iterdir()) == ["step_0000008.png"]
    assert done.stdout.count("gst: training gan on cpu x 2 processes (gloo)") == 1
    assert done.stdout.count("gst: done at step 8") == 1
