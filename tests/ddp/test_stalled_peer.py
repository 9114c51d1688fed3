"""Issue 19, item 11: a process that stalls is named by rank after stall_timeout, with the
option to raise, instead of gloo's timeout traceback after 30 minutes."""

from __future__ import annotations

from pathlib import Path

from gst_core.training.distributed import DistributedOptions
from tests.ddp.conftest import TINY_GAN, torchrun, write_config


def test_the_stall_timeout_is_shorter_than_the_collective_timeout():
    options = DistributedOptions()
    assert options.stall_timeout < options.timeout


def test_a_stalled_rank_is_named_with_the_option(tmp_path):
    config = write_config(tmp_path, TINY_GAN + "stall_timeout = 3\n")
    worker = Path(__file__).with_name("stall_worker.py")
    done = torchrun(
        [str(worker), "train", "gan", "-c", str(config), "--run-dir", str(tmp_path / "run")],
        tmp_path,
    )
    assert done.returncode != 0
    assert "gst: error: rank(s) 1 of this run did not reach step 2 within 3 s" in done.stderr
    assert "[train.distributed] stall_timeout" in done.stderr
