"""Fixtures for the feed-forward style tests: one thread, a tiny trained checkpoint."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread; on a busy 2-core machine two threads spin-wait
    on each other (the GAN tests took 313 s that way instead of about 20 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# A run small enough for a few seconds on a shared 2-core CPU.
TINY_ARGS = [
    "--threads",
    "1",
    "--batch-size",
    "2",
    "--sample-every",
    "2",
    "--checkpoint-every",
    "2",
    "--set",
    "generator.name=transformer_net",
    "--set",
    "generator.channels=4",
    "--set",
    "generator.residual_blocks=1",
    "--set",
    "feature_extractor.name=random_multiscale",
    "--set",
    "feature_extractor.channels=8",
    "--set",
    "feature_extractor.num_scales=3",
    "--set",
    "data.image_size=16",
    "--set",
    "data.count=6",
    "--set",
    "data.photo_fraction=0.0",
    "--set",
    "objective.style_size=32",
]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A fast_style run of 2 steps; its checkpoint file."""
    from gst_core.cli import main

    run_dir = tmp_path_factory.mktemp("fast_style_run")
    torch.set_num_threads(1)
    assert main(["train", "fast_style", "--steps", "2", "--run-dir", str(run_dir), *TINY_ARGS]) == 0
    return run_dir / "checkpoints" / "last.pt"
