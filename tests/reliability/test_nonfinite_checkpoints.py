"""Item 1: a checkpoint never holds NaN or infinity, and one that does is refused."""

from __future__ import annotations

import pytest
import torch

from gst_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gst_core.cli import main

from .helpers import write_config


def _assert_all_finite(value):
    if isinstance(value, torch.Tensor):
        assert not value.is_floating_point() or bool(torch.isfinite(value).all())
    elif isinstance(value, dict):
        for item in value.values():
            _assert_all_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _assert_all_finite(item)


def test_an_absurd_learning_rate_stops_before_non_finite_weights_reach_a_checkpoint(
    tmp_path, capsys
):
    config = write_config(
        tmp_path,
        **{"non_saturating": "wasserstein", "checkpoint_every = 3": "checkpoint_every = 1"},
    )
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "2"]) == 0
    assert main(["train", "gan", "--resume", str(run), "--steps", "6", "--lr", "1e15"]) == 2
    err = capsys.readouterr().err
    assert "weights became non-finite (NaN or infinity) after the update at step 3" in err
    assert "Lower the learning rate" in err
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 2
    _assert_all_finite(state)
    assert main(["sample", str(run), "-n", "4", "-o", str(tmp_path / "g.png")]) == 0


def test_writing_a_non_finite_state_is_refused_and_the_previous_file_kept(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint({"networks": {"g": {"w": torch.ones(3)}}}, path)
    before = path.read_bytes()
    bad = {"optimizers": {"g": {"state": {0: {"exp_avg_sq": torch.tensor([1.0, float("inf")])}}}}}
    with pytest.raises(CheckpointError, match=r"non-finite values .* in optimizers\.g\.state\.0"):
        save_checkpoint(bad, path)
    assert path.read_bytes() == before


@pytest.fixture
def poisoned_run(tmp_path):
    """A finished run whose checkpoint was then given a NaN weight, as an older gst wrote."""
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "1"]) == 0
    path = run / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    state["ema"]["generator"]["module.net.0.weight"][0] = float("nan")
    torch.save(state, path)
    return run


def test_sampling_from_a_non_finite_checkpoint_is_refused(poisoned_run, tmp_path, capsys):
    grid = tmp_path / "grid.png"
    assert main(["sample", str(poisoned_run), "-n", "4", "-o", str(grid)]) == 2
    err = capsys.readouterr().err
    assert "holds non-finite values (NaN or infinity) in ema.generator.module.net.0.weight" in err
    assert not grid.exists()


def test_resuming_from_a_non_finite_checkpoint_is_refused(poisoned_run, capsys):
    assert main(["train", "gan", "--resume", str(poisoned_run), "--steps", "2"]) == 2
    assert "cannot be sampled from or resumed" in capsys.readouterr().err
    with pytest.raises(CheckpointError):
        load_checkpoint(poisoned_run)
