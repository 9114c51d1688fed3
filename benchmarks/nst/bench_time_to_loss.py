"""Time for gst stylize to reach the PyTorch tutorial's style loss, in one run (issue 10).

The tutorial's code (tutorial_reference.py) runs its 300 L-BFGS steps at
``--size``; its result's style loss (the same layers and normalisation as gst's:
Gram ``F Fᵀ/(C·H·W)``, mean squared error) is the target. gst stylize then
runs with its defaults (strong-Wolfe L-BFGS, convergence stop) on the same
images, weights and VGG19 weights, and the time at which its image first
reaches the target is reported (checked every ``--every`` evaluations, from
copies of the image, so the check costs no time in the run). Target: at most
half the tutorial's time.

No VGG19 weights can be downloaded here, so both use the SAME seeded random
VGG19 weights in the same layout (``weights="random"``; say so when quoting).
Pass ``--weights vgg19.pth`` for real ones.

    .venv/bin/python benchmarks/nst/bench_time_to_loss.py --size 512
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tutorial_reference as ref  # noqa: E402
from bench_stylize import GST_CONTENT, GST_STYLE, MEAN, STD, images  # noqa: E402

from gst_core.kinds import feature_extractors, losses  # noqa: E402
from gst_core.pipelines import StyleTransfer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=300, help="the tutorial's num_steps")
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/nst_time_to_loss.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    build = dict(weights=args.weights, seed=0)
    vgg = feature_extractors.build("vgg19", **build)
    tutorial_cnn = feature_extractors.build("vgg19", channels_last=False, **build).features
    content, style = images(args.size)

    start = time.perf_counter()
    out_ref = ref.run_style_transfer(
        tutorial_cnn, MEAN, STD, content, style, content.clone(), num_steps=args.steps
    )
    ref_s = time.perf_counter() - start

    transfer = StyleTransfer(
        vgg,
        losses.build("content", layers=GST_CONTENT),
        losses.build("style", layers=GST_STYLE),
        steps=args.steps,
        content_weight=1.0,
        style_weight=1e6,
        tv_weight=0.0,
        progress=False,
    )
    p = transfer.perceptual
    content_t, style_t = p.content_targets(content), p.style_targets(style)

    def style_loss(image):
        with torch.no_grad():
            return float(p.feature_terms(image.clamp(0, 1), content_t, style_t)[1])

    target = style_loss(out_ref.detach())
    snapshots: list[tuple[int, float, torch.Tensor]] = []
    start = time.perf_counter()

    def keep(step, image):
        if step % args.every == 0:
            snapshots.append((step, time.perf_counter() - start, image.detach().clone()))

    out = transfer.run(content, [style], callback=keep)
    gst_s = time.perf_counter() - start
    reached = next(((s, t) for s, t, im in snapshots if style_loss(im) <= target), None)
    result = {
        "benchmark": "gst stylize time to the tutorial's style loss (issue 10)",
        "machine": f"{platform.machine()}, torch {torch.__version__}, {args.threads} threads",
        "weights": args.weights,
        "size": args.size,
        "tutorial_steps": args.steps,
        "tutorial_s": ref_s,
        "target_style_loss": target,
        "gst_evaluations": transfer.evaluations,
        "gst_total_s": gst_s,
        "gst_final_style_loss": style_loss(out),
        "gst_reached_at_evaluation": reached[0] if reached else None,
        "gst_time_to_target_s": reached[1] if reached else None,
        "ratio_to_tutorial": (reached[1] / ref_s) if reached else None,
        "target_ratio_max": 0.5,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
