"""`--threads N` for every subcommand that runs torch: one flag, one check, one place it is applied.

On a shared CPU the default (one thread per core) can be several times slower than one
thread: the demo took 136 s with the default and 38 s with ``--threads 1`` on the shared
2-core machine (issue 20). The thread count is also part of what makes a run
bit-identical (README, Reproducibility).
"""

from __future__ import annotations

import argparse

import torch

from gst_core.runtime.option_checks import check_option

__all__ = ["add_threads_option", "apply_threads"]

HELP = "torch CPU threads (default: torch's, one per core; 1 is often fastest on a busy CPU)"


def add_threads_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--threads", type=int, metavar="N", help=HELP)


def apply_threads(args: argparse.Namespace) -> None:
    """Set torch's thread count from ``args.threads`` when the subcommand has the flag."""
    threads = getattr(args, "threads", None)
    if threads is None:
        return
    check_option(threads, "an integer", "--threads", source="gst", minimum=1)
    torch.set_num_threads(threads)
