"""`gst publish RUN -o DIR`: a run's inference networks as a shareable model folder.

The folder holds ``model.safetensors`` (no pickle), ``config.json`` and a model
card ``README.md`` with a sample strip; every command that takes a run takes
it too, and ``gst_core.load_pretrained(DIR)`` loads it in Python.
"""

from __future__ import annotations

import argparse
import sys

from gst_core.apply.hub import push
from gst_core.apply.publish import publish

DEFAULT_LICENSE = "other"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="write a run's trained networks as a model folder (safetensors + config + card)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", help="run folder or checkpoint file")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="new model folder")
    parser.add_argument(
        "--license",
        default=DEFAULT_LICENSE,
        help=f"licence of the weights for the card, an SPDX id such as mit or cc-by-4.0 "
        f"(default: {DEFAULT_LICENSE!r}, meaning not stated)",
    )
    parser.add_argument("--title", help="the card's title (default: the run folder's name)")
    parser.add_argument(
        "--no-ema", action="store_true", help="publish the raw weights, not the EMA copies"
    )
    parser.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="also upload the folder to the Hugging Face Hub repo user/name (the hub extra)",
    )
    parser.add_argument("--private", action="store_true", help="--push-to-hub: a private repo")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.push_to_hub:
        from gst_core.apply.hub import require_hub

        require_hub()  # the missing extra is named before any work
    folder = publish(
        args.run, args.output, license=args.license, ema=not args.no_ema, title=args.title
    )
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    print(f"gst: published {args.run} to {folder} ({files})", file=sys.stderr)
    if args.push_to_hub:
        url = push(folder, args.push_to_hub, private=args.private)
        print(f"gst: pushed to {url}", file=sys.stderr)
    return 0
