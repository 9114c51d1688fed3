"""`gst sample CHECKPOINT -n 64 -o grid.png [--label K]`: draw images from a trained generator."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from gst_core.apply.network_source import open_networks
from gst_core.checkpoint import CheckpointError
from gst_core.cli.threads import add_threads_option
from gst_core.images import make_grid, save_image
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
    source = open_networks(args.checkpoint, device=args.device)
    translate_instead = (
        f"{args.checkpoint} is a {source.objective!r} checkpoint whose generator maps "
        "images to images; gst sample draws from noise-to-image generators (a gan run). Apply "
        f"it to images with: gst translate {args.checkpoint} IMAGE... -o OUTDIR"
    )
    if "generator" not in source.names:
        raise CheckpointError(translate_instead)
    generator = source.load("generator", ema=not args.no_ema, device=args.device)
    if generator.input_kind != "latent":
        raise CheckpointError(translate_instead)
    classes = generator.num_classes
    if args.label is not None and not classes:
        raise CheckpointError("--label needs a class-conditional generator; this one is not")
    if args.label is not None and not 0 <= args.label < classes:
        raise CheckpointError(f"--label must lie in 0..{classes - 1}, got {args.label}")
    rng = torch.Generator(device=args.device).manual_seed(args.seed)
    nrow = args.nrow
    labels = None
    if args.label is not None:
        labels = torch.full((args.count,), args.label, dtype=torch.long, device=args.device)
    elif classes:
        nrow = nrow or max(1, math.ceil(args.count / classes))
        labels = (torch.arange(args.count, device=args.device) // nrow) % classes
    with torch.no_grad():
        images = generator(generator.sample_latent(args.count, generator=rng), labels)
    save_image(make_grid((images.cpu() + 1) / 2, nrow=nrow), args.output)
    print(f"gst: wrote {args.count} samples to {args.output}")
    return 0
