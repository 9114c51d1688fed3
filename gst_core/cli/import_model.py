"""`gst import FILE -o RUN_DIR [--from PROJECT] [--arch ARCH]`: a peer's trained model for gst.

Thin over :func:`gst_core.apply.peer_import.import_peer`; the run folder it writes is
taken by ``gst translate``, ``gst stylize --model`` and ``gst export``.
"""

from __future__ import annotations

import argparse
import sys

from gst_core.apply.peer_import import PROJECTS, import_peer


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="turn a pytorch-CycleGAN-and-pix2pix or fast_neural_style model into a gst run",
        description="Read a generator another project saved (pytorch-CycleGAN-and-pix2pix's "
        "latest_net_G*.pth; pytorch/examples fast_neural_style's candy.pth, mosaic.pth, ...) "
        "with torch.load(weights_only=True) and write a gst run folder that gst translate, "
        "gst stylize --model and gst export take. The architecture is read from the weights; "
        "for CycleGAN the other direction's file next to it (G_A / G_B) comes along.",
    )
    parser.add_argument("file", help="the peer's .pth file (a state dict)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="RUN_DIR", help="new run folder to write"
    )
    parser.add_argument(
        "--from",
        dest="project",
        choices=tuple(PROJECTS),
        help="the project that trained it (default: read from the file; pix2pix and "
        "CycleGAN generators without G_A/G_B in the name need it)",
    )
    parser.add_argument(
        "--arch",
        help="check the architecture: resnet_9blocks, resnet_6blocks, unet_256, unet_128, "
        "transformer_net (the reference's --netG)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checkpoint = import_peer(args.file, args.output, project=args.project, arch=args.arch)
    print(f"gst: imported {args.file} into {args.output} ({checkpoint})", file=sys.stderr)
    return 0
