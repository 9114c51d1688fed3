"""`gst translate CHECKPOINT IMAGE... -o OUTDIR`: apply a pix2pix/CycleGAN generator to images."""

from __future__ import annotations

import argparse
import sys
import warnings

from gst_core.apply.network_source import open_networks
from gst_core.apply.translate import direction_notice, plan_outputs, translate
from gst_core.cli.threads import add_threads_option
from gst_core.cli.tiling_options import add_tiling_arguments
from gst_core.runtime.option_checks import check_option, resolve_device


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "translate",
        help="apply a trained pix2pix/CycleGAN generator to images of any size",
        description="Translate image files or folders with a pix2pix or cyclegan checkpoint. "
        "Any size and aspect ratio: images are padded to what the network needs and cropped "
        "back; an image too big for --max-memory goes through in overlapping tiles. One PNG per "
        "input in OUTDIR (a folder's subfolders are kept); a video (clip.mp4 -o out.mp4) is "
        "translated frame by frame. Inputs are never overwritten.",
    )
    parser.add_argument("checkpoint", help="checkpoint file, run folder or model folder")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    parser.add_argument(
        "--direction",
        choices=("a2b", "b2a"),
        help="cyclegan: A → B (g_ab, the default, said when used) or B → A (g_ba)",
    )
    parser.add_argument(
        "--size", type=int, help="scale each image's longer side to SIZE px first (default: keep)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--no-ema", action="store_true", help="use the raw generator weights")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=8,
        metavar="N",
        help="images of the same size go through the network N at a time (default 8)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="run the network through torch.compile (the first image of each size compiles "
        "it; on a CPU it needs g++; eager, with a warning, where it cannot)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    add_threads_option(parser)
    add_tiling_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Checked here: an unusable device used to surface as "the checkpoint is corrupt".
    args.device = str(resolve_device(args.device))
    check_option(args.batch_size, "an integer", "--batch-size", source="gst translate", minimum=1)
    plan_outputs(args.images, args.output, overwrite=args.overwrite)  # before the load
    # Read once (a checkpoint, run folder or model folder); a model folder is rebuilt from it.
    source = open_networks(args.checkpoint, device=args.device)
    state = source.state if source.state is not None else args.checkpoint
    notice = direction_notice(source, args.direction)
    if notice:
        print(f"gst: {notice}", file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = translate(
            state,
            args.images,
            args.output,
            direction=args.direction or "a2b",
            size=args.size,
            overwrite=args.overwrite,
            ema=not args.no_ema,
            device=args.device,
            tile=args.tile,
            overlap=args.overlap,
            max_memory=args.max_memory,
            batch_size=args.batch_size,
            compile=args.compile,
        )
    for w in caught:
        print(f"gst: warning: {w.message}")
    print(f"gst: translated {len(result.written)} image(s) into {args.output}", end="")
    print(f"; skipped {len(result.skipped)} unreadable" if result.skipped else "")
    return 0
