"""`gst import FILE -o OUT [--from PROJECT] [--arch ARCH] [--encoder FILE] [--model-folder]`.

Thin over :func:`gst_core.apply.peer_import.import_peer`: a peer's trained model as a
gst run folder (default) or, with ``--model-folder``, a published model folder
(safetensors + config.json + model card, as ``gst publish`` writes). Either is taken
by ``gst translate``, ``gst stylize --model`` and ``gst export``.
"""

from __future__ import annotations

import argparse
import sys

from gst_core.apply.peer_import import PROJECTS, import_peer


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="turn a pytorch-CycleGAN-and-pix2pix, fast_neural_style or pytorch-AdaIN model "
        "into a gst run or model folder",
        description="Read a model another project saved (pytorch-CycleGAN-and-pix2pix's "
        "latest_net_G*.pth; pytorch/examples fast_neural_style's candy.pth, mosaic.pth, ...; "
        "pytorch-AdaIN's decoder.pth) with torch.load(weights_only=True) and write a gst run "
        "folder (or with --model-folder a shareable model folder) that gst translate, "
        "gst stylize --model and gst export take. The architecture is read from the weights; "
        "for CycleGAN the other direction's file next to it (G_A / G_B) comes along.",
    )
    parser.add_argument("file", help="the peer's .pth file (a state dict)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="new run folder (or model folder)"
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
        "transformer_net, adain_decoder (the reference's --netG)",
    )
    parser.add_argument(
        "--encoder",
        metavar="VGG_NORMALISED",
        help="pytorch-AdaIN: the encoder its decoder was trained with, vgg_normalised.pth "
        "(default: gst's VGG19, with a warning: the output then differs)",
    )
    parser.add_argument(
        "--model-folder",
        action="store_true",
        help="write OUT as a model folder (model.safetensors + config.json + README.md model "
        "card, no pickle) to share, instead of a run folder",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    written = import_peer(
        args.file,
        args.output,
        project=args.project,
        arch=args.arch,
        encoder=args.encoder,
        model_folder=args.model_folder,
    )
    kind = "model folder" if args.model_folder else "run folder"
    print(f"gst: imported {args.file} into the {kind} {args.output} ({written})", file=sys.stderr)
    return 0
