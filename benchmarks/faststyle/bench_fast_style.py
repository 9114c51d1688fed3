"""fast_style quality within a CPU budget (issue 10's targets), one thread.

Trains ``transformer_net`` with the ``fast_style`` objective on the built-in
``content_photos`` (128 px, seed 0) for at most ``--cpu-minutes`` of process
CPU time, then on held-out content images (``content_photos`` seed 1) reports:

* the style loss of the stylised images relative to that of the unstylised
  content (target <= 10%);
* the content loss of the stylised images relative to a Gatys result (L-BFGS,
  same extractor and weights) on the same images (target <= 2x).

Losses are the objective's own unweighted terms. The extractor is the offline
``random_multiscale`` (no VGG weights can be downloaded here), which is what
`gst train fast_style` uses without weights.

    .venv/bin/python benchmarks/faststyle/bench_fast_style.py --cpu-minutes 10
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from common import Context, strip  # this folder (run as a script)

from gst_core.kinds import datasets, feature_extractors, generators
from gst_core.pipelines.style_transfer import StyleTransfer
from gst_core.pipelines.stylize_options import StylizeOptions
from gst_plugins.objectives._feedforward import load_style_images
from gst_plugins.objectives.fast_style import FastStyleObjective

ROOT = Path(__file__).resolve().parents[2]


def unweighted(objective, images01, content01):
    c, s = objective.loss.feature_terms(
        images01, objective.loss.content_targets(content01), objective.style_grams
    )
    return float(c), float(s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu-minutes", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--style-weight", type=float, default=None)
    parser.add_argument("--gatys-steps", type=int, default=200)
    parser.add_argument("--heldout", type=int, default=6)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/fast_style_quality.json"))
    parser.add_argument("--strip", default=str(ROOT / "docs/fast_style_strip.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    data = datasets.build("content_photos", image_size=args.size, count=256, seed=0)
    heldout = datasets.build("content_photos", image_size=args.size, count=args.heldout, seed=1)
    extractor = feature_extractors.build("random_multiscale")
    style = load_style_images(None, 2 * args.size)[0]
    objective = FastStyleObjective(
        generators.build("transformer_net"), extractor, style, style_weight=args.style_weight
    )
    g = objective.generator
    ctx = Context({"generator": g}, {"generator": ["generator"]}, args.lr)
    budget = args.cpu_minutes * 60
    start = time.process_time()
    rng = torch.Generator().manual_seed(0)
    log = []
    while time.process_time() - start < budget:
        idx = torch.randint(len(data), (args.batch_size,), generator=rng)
        metrics = objective.train_step({"generator": g}, data.get_batch(idx), ctx)
        ctx.step += 1
        if ctx.step % 50 == 0:
            row = {k: float(v) for k, v in metrics.items()}
            log.append({"step": ctx.step, "cpu_s": time.process_time() - start, **row})
            print(log[-1], flush=True)
    train_cpu = time.process_time() - start

    content = (heldout.get_batch(list(range(len(heldout))))[0] + 1) / 2
    g.eval()
    with torch.no_grad():
        stylised = (g(content * 2 - 1) + 1) / 2
    c_net, s_net = unweighted(objective, stylised, content)
    c_raw, s_raw = unweighted(objective, content, content)
    gatys = []
    weights = objective.loss.loss_weights
    for i in range(len(content)):
        transfer = StyleTransfer(
            extractor,
            objective.loss.content_loss,
            objective.loss.style_loss,
            objective.loss.tv_loss,
            options=StylizeOptions(steps=args.gatys_steps, progress=False, **weights),
        )
        gatys.append(transfer.run(content[i : i + 1], [style]))
    gatys = torch.cat(gatys)
    c_gatys, s_gatys = unweighted(objective, gatys, content)
    result = {
        "benchmark": "fast_style quality (issue 10)",
        "machine": f"{platform.processor() or platform.machine()}, torch "
        f"{torch.__version__}, 1 thread",
        "extractor": "random_multiscale (offline; no VGG16 weights here)",
        "loss_weights": weights,
        "image_size": args.size,
        "batch_size": args.batch_size,
        "train_steps": ctx.step,
        "train_cpu_s": round(train_cpu, 1),
        "heldout_images": len(content),
        "style_loss_unstylised": s_raw,
        "style_loss_network": s_net,
        "style_loss_gatys": s_gatys,
        "style_ratio_network_vs_unstylised": s_net / s_raw,
        "content_loss_network": c_net,
        "content_loss_gatys": c_gatys,
        "content_ratio_network_vs_gatys": c_net / c_gatys,
        "targets": {"style_ratio_max": 0.10, "content_ratio_max": 2.0, "cpu_minutes": 10},
        "gatys_steps": args.gatys_steps,
        "log": log,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "log"}, indent=2))
    strip([content[:4], stylised[:4], gatys[:4]], args.strip)


if __name__ == "__main__":
    main()
