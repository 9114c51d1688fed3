"""`gst export CHECKPOINT -o model.onnx`: a trained image-to-image generator as one ONNX file.

Dynamic batch, height and width; checked with ``onnx.checker`` and, when
onnxruntime is installed, compared with PyTorch on two sizes and two batch
sizes it was not traced with. Needs the ``onnx`` extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gst_core.cli.threads import add_threads_option
from gst_core.errors import GstError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a trained image-to-image generator to ONNX",
        description="Write the generator of a fast_style/gan_style/pix2pix/CycleGAN checkpoint "
        "as one self-contained ONNX file (input 'image', (N, 3, H, W) in [-1, 1], any N, H, W).",
    )
    p.add_argument("checkpoint", help="a checkpoint file, run folder or model folder")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.add_argument(
        "--direction",
        choices=("a2b", "b2a"),
        help="which generator of a CycleGAN checkpoint (default a2b: g_ab, said when used)",
    )
    add_threads_option(p)
    p.add_argument("--opset", type=int, help="ONNX opset (default: torch's)")
    p.add_argument("--no-compare", action="store_true", help="skip the onnxruntime comparison")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gst_core.apply.export_onnx import (
        ExportError,
        compare_with_onnxruntime,
        export_onnx,
        require,
    )
    from gst_core.apply.network_source import open_networks
    from gst_core.apply.translate import direction_notice, load_translator
    from gst_core.runtime.output_paths import check_output_file

    require("onnx", "onnxscript")  # before any work, naming the package to install
    if not args.no_compare:
        require("onnxruntime")
    if not str(args.output).endswith(".onnx"):
        raise GstError(f"the output {args.output!r} should end in .onnx")
    output = check_output_file(args.output, inputs=[args.checkpoint], overwrite=args.overwrite)
    from gst_core.apply.adain_model import is_adain_checkpoint

    if is_adain_checkpoint(args.checkpoint):
        from gst_core.cli.export_adain import run_adain_export

        return run_adain_export(args, output)
    source = open_networks(args.checkpoint)  # a checkpoint, run folder or model folder
    state = source.state if source.state is not None else args.checkpoint
    notice = direction_notice(source, args.direction)
    if notice:
        print(f"gst: {notice}", file=sys.stderr)
    generator = load_translator(state, args.direction or "a2b")
    measured: list[float] = []

    def compare(written: Path) -> None:
        # On the temporary file, before it is named args.output: an export that fails its
        # check is never left on disk (issue 20).
        worst = compare_with_onnxruntime(generator, written)
        if worst > 1e-3:
            raise ExportError(
                f"{args.output}: onnxruntime differs from PyTorch by up to {worst:.3g}; the "
                "export is not faithful (report it with the generator's name); nothing written"
            )
        measured.append(worst)

    export_onnx(generator, output, opset=args.opset, check=None if args.no_compare else compare)
    print(f"gst: wrote {args.output} (checked with onnx.checker)", file=sys.stderr)
    if measured:
        print(
            f"gst: onnxruntime matches PyTorch to {measured[0]:.2g} on 2 unseen sizes x 2 batch "
            "sizes",
            file=sys.stderr,
        )
    return 0
