"""`gst eval warp OUT.mp4 [--reference IN.mp4]`: the warping error (flicker) of a video."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gst_core.apply.video import read_frames
from gst_core.atomic_file import atomic_write
from gst_core.metrics.errors import MetricError
from gst_core.metrics.warp_error import require_cv2, warping_error

__all__ = ["run_warp"]


def run_warp(args: argparse.Namespace) -> int:
    require_cv2()
    output = Path(args.real).expanduser()
    reference = Path(args.reference).expanduser() if args.reference else None
    for path in (output, reference):
        if path is not None and not path.is_file():
            raise MetricError(f"video {str(path)!r} does not exist")
    if args.fake is not None:
        raise MetricError("gst eval warp takes one video; give the input with --reference IN.mp4")
    result = warping_error(
        read_frames(output), read_frames(reference) if reference is not None else None
    )
    result.update(metric="warp", video=str(output), reference=str(reference) if reference else None)
    flow_from = f"the flow of {reference}" if reference else "its own flow (no --reference)"
    print(
        f"warping error {result['warping_error']:.6g} over {result['pairs']} frame pairs of "
        f"{output}, along {flow_from}; {result['masked_fraction']:.1%} of pixels masked "
        "(occluded or out of frame)"
    )
    if args.json is not None:
        with atomic_write(args.json) as f:
            f.write((json.dumps(result, indent=2) + "\n").encode())
        print(f"gst eval: wrote {args.json}")
    return 0
