"""`gst sample CHECKPOINT -n 64 -o grid.png [--label K]`: draw images from a trained generator."""

from __future__ import annotations

import argparse
from pathlib import Path

from gst_core.apply.sample_grid import sample_grid
from gst_core.checkpoint import CheckpointError
from gst_core.cli.threads import add_threads_option
from gst_core.images import save_image
from gst_core.runtime.option_checks import check_option, resolve_device
from gst_core.runtime.output_paths import check_output_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sample", help="draw a grid of images from a GAN checkpoint")
    parser.add_argument("checkpoint", help="checkpoint file, run folder or model folder")
    parser.add_argument("-n", "--count", type=int, default=64, help="number of images")
    parser.add_argument("-o", "--output", type=Path, default=Path("samples.png"))
    parser.add_argument(
        "--label", type=int, help="class to draw (conditional models); default: one row per class"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nrow", type=int, help="images per row")
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator weights")
    add_threads_option(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output image")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise CheckpointError(f"-n must be at least 1, got {args.count}")
    check_option(args.nrow, "an integer", "--nrow", source="gst sample", minimum=1, optional=True)
    args.device = resolve_device(args.device)
    args.output = check_output_file(
        args.output, inputs=[args.checkpoint], overwrite=args.overwrite, image=True
    )
    grid = sample_grid(
        args.checkpoint,
        args.count,
        label=args.label,
        seed=args.seed,
        nrow=args.nrow,
        ema=not args.no_ema,
        device=args.device,
    )
    save_image(grid, args.output)
    print(f"gst: wrote {args.count} samples to {args.output}")
    return 0
