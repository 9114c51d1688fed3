"""A schedule that scales with the run, and a warning when one starts low (issue 20 item 2)."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest

from gst_core.errors import TrainingSetupError
from gst_core.training.schedules import LowStartWarning, schedule_factor, warn_if_low_start

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("steps", [150, 3000])
def test_decay_fraction_decays_the_last_part_of_any_run(steps):
    f = schedule_factor({"name": "linear", "decay_fraction": 0.5}, steps)
    half = steps // 2
    assert f(0) == 1.0 and f(half) == 1.0  # constant for the first half, whatever the length
    assert f(half + half // 2) == pytest.approx(0.5, abs=2 / steps)
    assert f(steps) == 0.0


@pytest.mark.parametrize("bad", [0, 1.5, "half", True])
def test_decay_fraction_outside_0_1_is_refused(bad):
    with pytest.raises(TrainingSetupError, match="decay_fraction must be a number in"):
        schedule_factor({"name": "linear", "decay_fraction": bad}, 100)


def test_decay_steps_and_fraction_together_are_refused():
    spec = {"name": "linear", "decay_steps": 10, "decay_fraction": 0.5}
    with pytest.raises(TrainingSetupError, match="not both"):
        schedule_factor(spec, 100)


def test_a_schedule_starting_below_its_rate_warns_with_the_fix():
    with pytest.warns(LowStartWarning, match=r"starts at 0\.1x.*decay_fraction = 0\.5"):
        warn_if_low_start({"name": "linear", "decay_steps": 1500}, 150)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_low_start({"name": "linear", "decay_steps": 100}, 150)  # starts at 1: silent
        warn_if_low_start({"name": "linear", "decay_fraction": 0.5}, 150)


def test_training_with_a_low_start_warns_through_the_cli(tmp_path):
    from gst_core.cli import main

    args = [
        "train", "gan", "--config", str(ROOT / "tests/gan/fixtures/gan_v0_1.toml"),
        "--steps", "2", "--run-dir", str(tmp_path / "run"), "--batch-size", "4",
        "--set", 'train.lr_schedule={name = "linear", decay_steps = 20}',
        "--sample-every", "0", "--checkpoint-every", "2",
    ]  # fmt: skip
    with pytest.warns(LowStartWarning, match="decay_steps 20 is longer than the run's 2 steps"):
        assert main(args) == 0


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_the_examples_schedules_scale_with_steps(name):
    train = tomllib.loads((ROOT / "examples" / f"{name}.toml").read_text())["train"]
    f = schedule_factor(train["lr_schedule"], 150)  # `--steps 150` on the example
    assert f(0) == 1.0
