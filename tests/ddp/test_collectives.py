"""The reduction helpers on two real processes (torchrun, gloo), and a failure on one rank
taking the run down with its message shown once."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests.ddp.conftest import torchrun

WORKER = Path(__file__).with_name("collectives_worker.py")


def test_collectives_and_a_failing_rank(tmp_path):
    done = torchrun([str(WORKER), str(tmp_path)], cwd=Path(__file__).parents[2])
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    rows = [
        (torch.arange(6 * (r + 2), dtype=torch.float64).reshape(r + 2, 6) / 3 + r).tolist()
        for r in range(2)
    ]
    torch.manual_seed(11)
    latents = torch.randn(6, 4)
    after = torch.rand(1).item()
    for rank, result in enumerate(results):
        assert result["world"] == 2
        assert result["gathered"] == rows  # float64 kept, uneven shards, rank order
        assert result["sum"] == 3.0 and result["max"] == 2.0
        assert result["logged"] == {"loss": 1.5, "acc": 0.125}
        # Each process's latents are its slice of the global batch's, drawn as one process
        # would draw them, and the RNGs stay in step.
        assert torch.equal(torch.tensor(result["latents"]), latents[3 * rank : 3 * rank + 3])
        assert result["after"] == after
        assert result["augment_repeats"]
        assert result["all_true"] is False and result["all_true_both"] is True
        assert result["broadcast"] == "from rank 0"
        assert result["report_shared"] is (rank == 0)

    # The processes augment their shares differently.
    assert results[0]["augment"] != results[1]["augment"]

    # Rank 1 failed alone: the run stopped (no hang), and its message appears once, tagged.
    assert done.returncode != 0
    message = "gst: error (rank 1 of 2): rank one could not read its shard"
    assert done.stderr.count("rank one could not read its shard") == 1
    assert message in done.stderr
    # Rank 0 either says "gst: stopped: another process of this run failed" or is ended by
    # torchrun first; both are fine, a hang or a second copy of the message is not.
    # No traceback from gst's processes; torchrun's own failure report is the only one.
    assert done.stderr.count("Traceback (most recent call last)") <= 1
    assert "ChildFailedError" in done.stderr
