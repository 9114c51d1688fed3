"""`gst export ADAIN_RUN -o model.onnx`: inputs content, style and alpha (docs in the README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gst_core.errors import GstError

__all__ = ["run_adain_export"]


def run_adain_export(args: argparse.Namespace, output: Path) -> int:
    from gst_core.apply.adain_model import load_adain
    from gst_core.apply.export_adain_onnx import compare_adain_onnx, export_adain_onnx

    model = load_adain(args.checkpoint)
    export_adain_onnx(model, output)
    print(f"gst: wrote {args.output} (inputs content, style, alpha; checked)", file=sys.stderr)
    if not args.no_compare:
        worst = compare_adain_onnx(model, output)
        if worst > 1e-3:
            raise GstError(f"{args.output}: onnxruntime differs from PyTorch by up to {worst:.3g}")
        print(f"gst: onnxruntime matches PyTorch to {worst:.2g} on 2 unseen sizes", file=sys.stderr)
    return 0
