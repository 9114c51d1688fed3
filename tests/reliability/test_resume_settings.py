"""Item 3: a resumed run applies, refuses or names every setting that changed."""

from __future__ import annotations

import re

import pytest

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main

from .helpers import write_config


@pytest.fixture
def run(tmp_path):
    config = write_config(tmp_path)
    folder = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(folder), "--steps", "2"]) == 0
    return folder


def test_new_learning_rates_are_applied_and_recorded(run, capsys):
    assert main(["train", "gan", "--resume", str(run), "--steps", "3", "--lr-g", "1e-3"]) == 0
    state = load_checkpoint(run)
    assert state["optimizers"]["generator"]["param_groups"][0]["lr"] == 1e-3
    assert state["optimizers"]["discriminator"]["param_groups"][0]["lr"] == 2e-4
    assert state["train"]["optimizers"]["generator"]["lr"] == 1e-3
    err = capsys.readouterr().err
    assert "train.optimizers.generator.lr: 'unset' → 0.001" in err


def test_another_optimizer_class_is_refused_before_anything_is_written(run, tmp_path, capsys):
    sgd = write_config(
        tmp_path, **{"[train]": '[train.optimizer]\nname = "SGD"\nlr = 0.01\n[train]'}
    )
    before = {p.name: p.read_bytes() for p in [run / "config.json", run / "metrics.jsonl"]}
    args = ["train", "gan", "-c", str(sgd), "--resume", str(run), "--run-dir", str(run)]
    assert main([*args, "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"was trained with the Adam optimizer for '\w+', but this run builds SGD", err)
    assert {p: (run / p).read_bytes() for p in before} == before
    assert load_checkpoint(run)["step"] == 2


def test_a_changed_loss_batch_size_and_seed_are_named(run, tmp_path, capsys):
    other = write_config(tmp_path, **{'"non_saturating"': '"hinge"', "seed = 0": "seed = 7"})
    args = ["train", "gan", "-c", str(other), "--resume", str(run), "--run-dir", str(run)]
    assert main([*args, "--steps", "3", "--batch-size", "8"]) == 0
    err = capsys.readouterr().err
    assert "gst: warning: resuming" in err
    assert "loss.name: 'non_saturating' → 'hinge'" in err
    assert "train.batch_size: 4 → 8" in err
    assert "train.seed: 0 → 7" in err


def test_a_learning_rate_changed_on_resume_is_what_the_schedule_scales(tmp_path):
    """The schedule's saved state must not put the old base rate back at its next step."""
    halving = '[train]\nlr_schedule = { name = "step", step_size = 1, gamma = 0.5 }'
    config = write_config(tmp_path, **{"[train]": halving})
    folder = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(folder), "--steps", "2"]) == 0
    groups = load_checkpoint(folder)["optimizers"]
    assert groups["generator"]["param_groups"][0]["lr"] == 2e-4 * 0.5**2
    assert main(["train", "gan", "--resume", str(folder), "--steps", "3", "--lr-g", "1e-3"]) == 0
    groups = load_checkpoint(folder)["optimizers"]
    assert groups["generator"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.5**3, rel=1e-12)
    assert groups["discriminator"]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.5**3)
