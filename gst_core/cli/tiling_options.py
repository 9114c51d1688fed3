"""The --tile / --overlap / --max-memory options of the commands that apply models."""

from __future__ import annotations

import argparse

from gst_core.apply.tiling import Tiling

__all__ = ["add_tiling_arguments", "tiling_from_args"]


def add_tiling_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--tile",
        type=int,
        metavar="SIZE",
        help="apply in overlapping SIZE×SIZE tiles (0 = never; default: only when the "
        "image does not fit --max-memory)",
    )
    parser.add_argument(
        "--overlap", type=int, metavar="PX", help="pixels neighbouring tiles share (SIZE/8)"
    )
    parser.add_argument(
        "--max-memory",
        metavar="BYTES",
        help="memory one forward pass may use, e.g. 2G or 512M (default: half the free "
        "memory, at most 1G on CPU; 70%% of the free GPU memory)",
    )


def tiling_from_args(args: argparse.Namespace, *, progress: bool) -> Tiling:
    return Tiling(args.tile, args.overlap, args.max_memory, progress=progress)
