"""Run by test_collectives.py under ``torchrun --nproc_per_node 2``: checks the reduction
helpers on two real processes, writes what it saw, then fails on rank 1 alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from gst_core import cli
from gst_core.cli import train as train_command
from gst_core.errors import GstError
from gst_core.training import distributed


def check_collectives(out: Path) -> None:
    run = distributed.setup({"timeout": 60}, "cpu")
    rank = run.rank
    # Uneven float64 shards (as FID feature rows are): gathered exactly, in rank order.
    rows = torch.arange(6 * (rank + 2), dtype=torch.float64).reshape(rank + 2, 6) / 3 + rank
    gathered = distributed.all_gather(rows)
    summed = distributed.all_reduce(torch.tensor([rank + 1.0], dtype=torch.float64), "sum")
    largest = distributed.all_reduce(torch.tensor([rank + 1.0]), "max")
    logged = distributed.mean_over_processes(
        {"loss": 1.0 + rank, "acc": 0.25 * rank}, run.device("cpu")
    )
    torch.manual_seed(11)
    latents = distributed.per_sample(3, lambda n: torch.randn(n, 4))
    # Data augmentation draws from a per-process, per-batch RNG, leaving the global one alone.
    with distributed.data_rng(seed=0, batch=5):
        augment = torch.rand(3)
    with distributed.data_rng(seed=0, batch=5):
        again = torch.rand(3)
    after = torch.rand(1)  # every process's RNG must still be in step
    result = {
        "rank": rank,
        "world": run.world_size,
        "gathered": [g.tolist() for g in gathered],
        "sum": summed.item(),
        "max": largest.item(),
        "logged": logged,
        "latents": latents.tolist(),
        "after": after.item(),
        "augment": augment.tolist(),
        "augment_repeats": torch.equal(augment, again),
        "all_true": distributed.all_true(rank == 0),
        "all_true_both": distributed.all_true(True),
        "broadcast": distributed.broadcast_object(f"from rank {rank}"),
        "report_shared": distributed.should_report(GstError("every rank")),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(result))


def fail_on_rank_one(args) -> int:
    """A subcommand whose rank 1 meets an error of its own while rank 0 waits for it."""
    if distributed.current().rank == 1:
        error = GstError("rank one could not read its shard")
        error.rank_local = True
        raise error
    distributed.all_reduce(torch.ones(1))  # never completes: rank 1 has gone
    return 0


if __name__ == "__main__":
    check_collectives(Path(sys.argv[1]))
    # Through the real `gst` entry point and its error handling: `gst train` made to fail.
    train_command.run = fail_on_rank_one  # add_parser binds `run` when the parser is built
    sys.exit(cli.main(["train", "gan"]))
