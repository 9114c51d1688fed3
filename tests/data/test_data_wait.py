"""``data_wait_share``: the share of training time spent waiting for batches."""

from __future__ import annotations

import json
import time

import pytest
import torch
from torch.utils.data import Dataset

from gst_core.kinds import discriminators, generators, losses
from gst_core.training.data_wait import DataWaitClock
from gst_core.training.trainer import Trainer
from gst_plugins.objectives.gan import GANObjective


class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_share_is_waited_over_elapsed_and_resets():
    clock = _FakeClock()
    wait = DataWaitClock(clock)
    with wait.waiting():
        clock.now += 3.0
    clock.now += 1.0  # the step itself
    assert wait.share() == pytest.approx(0.75)
    clock.now += 2.0  # no waiting since the last read
    assert wait.share() == 0.0
    with wait.waiting():
        clock.now += 1.0
    assert wait.share() == 1.0
    assert wait.share_in_all() == pytest.approx(4.0 / 7.0)  # 4 s of waiting in 7


class _Images(Dataset):
    """Random 16² images; ``delay`` seconds to fetch each one."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def __len__(self) -> int:
        return 64

    def __getitem__(self, index: int) -> torch.Tensor:
        if self.delay:
            time.sleep(self.delay)
        return torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(index)) * 2 - 1


def _logged_shares(tmp_path, delay):
    torch.manual_seed(0)
    g = generators.build("dcgan", image_size=16, width=8, latent_dim=8)
    d = discriminators.build("dcgan", image_size=16, width=8)
    config = {
        "steps": 4,
        "batch_size": 4,
        "progress": False,
        "log_every": 2,
        "sample_every": 0,
        "run_dir": str(tmp_path / f"run-{delay}"),
    }
    Trainer(GANObjective(g, d, losses.build("hinge")), _Images(delay), config).fit()
    lines = (tmp_path / f"run-{delay}" / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["data_wait_share"] for line in lines if "data_wait_share" in line]


def test_a_slow_dataset_shows_as_waiting_and_a_fast_one_does_not(tmp_path):
    # 4 images x 0.25 s per batch against a step of a few ms on 16² networks.
    slow = _logged_shares(tmp_path, delay=0.25)
    fast = _logged_shares(tmp_path, delay=0.0)
    assert len(slow) == len(fast) == 2
    assert all(share > 0.7 for share in slow)
    assert all(share < 0.5 for share in fast)
