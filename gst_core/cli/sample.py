"""`gst sample CHECKPOINT -n 64 -o grid.png [--label K]`: draw images from a trained generator."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from gst_core.checkpoint import CheckpointError, load_checkpoint
from gst_core.images import make_grid, save_image
from gst_core.interfaces import ImageGenerator
from gst_core.kinds import generators

__all__ = ["load_generator"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sample", help="draw a grid of images from a GAN checkpoint")
    parser.add_argument("checkpoint", help="checkpoint file or run folder")
    parser.add_argument("-n", "--count", type=int, default=64, help="number of images")
    parser.add_argument("-o", "--output", type=Path, default=Path("samples.png"))
    parser.add_argument(
        "--label", type=int, help="class to draw (conditional models); default: one row per class"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nrow", type=int, help="images per row")
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator weights")
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(func=run)


def load_generator(
    checkpoint: str | Path, *, ema: bool = True, device: str | torch.device = "cpu"
) -> ImageGenerator:
    """The generator of a training checkpoint, rebuilt from its saved config, in eval mode."""
    state = load_checkpoint(checkpoint, map_location=device)
    spec = state.get("spec", {}).get("generator")
    if spec is None:
        raise CheckpointError(
            f"{state['path']} does not record how its generator was built (no [generator] "
            "section in its config); build the generator yourself and load "
            "state['networks']['generator'] into it"
        )
    generator = generators.build(spec)
    weights = state["networks"]["generator"]
    if ema and "generator" in state.get("ema", {}):
        prefix = "module."
        weights = {
            k[len(prefix) :]: v
            for k, v in state["ema"]["generator"].items()
            if k.startswith(prefix)
        }
    try:
        generator.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{state['path']}: the saved generator weights do not fit {spec!r}: {exc}"
        ) from exc
    return generator.to(device).eval()


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise CheckpointError(f"-n must be at least 1, got {args.count}")
    generator = load_generator(args.checkpoint, ema=not args.no_ema, device=args.device)
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
