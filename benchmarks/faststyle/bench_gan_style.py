"""gan_style quality within a CPU budget (issue 10's targets), one thread.

Style domain: 16 drawn swirl paintings (``sample_style`` with seeds 0-15, 256 px),
cropped to 128 px. Content: the built-in ``content_photos`` (128 px, seed 0);
held out: ``content_photos`` seed 1. Extractor: the offline ``random_multiscale``.

The generator is trained content-only for ``--warmup`` steps, then against a
PatchGAN (LSGAN, edge-smoothed + greyscale negatives) with content, Gram style
and TV terms, for at most ``--cpu-minutes`` of process CPU time in all.
On the held-out images, after the warm-up and at the end, it reports:

* the Gram distance to the style images (the unweighted style loss against the
  style images' mean Gram) — target: falls by at least half;
* the content loss — target: at most 2x the warm-up's;
* the share of outputs an independent classifier (logistic regression on colour
  and gradient statistics, trained here on other content photos vs other style
  paintings) labels as style domain — target >= 80%.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from common import Context, strip

from gst_core.images import pil_to_tensor
from gst_core.kinds import datasets, discriminators, feature_extractors, generators, losses
from gst_plugins.datasets.style_samples import sample_style
from gst_plugins.objectives.gan_style import GANStyleObjective

ROOT = Path(__file__).resolve().parents[2]


def describe(images01: torch.Tensor) -> np.ndarray:
    """Per image: colour histograms (8 bins per channel) and gradient statistics."""
    rows = []
    for x in images01:
        hist = [torch.histc(x[c], bins=8, min=0, max=1) / x[c].numel() for c in range(3)]
        dx, dy = (x[:, :, 1:] - x[:, :, :-1]).abs(), (x[:, 1:] - x[:, :-1]).abs()
        stats = torch.stack([dx.mean(), dy.mean(), dx.std(), dy.std(), x.std(), x.mean()])
        rows.append(torch.cat([*hist, stats]).numpy())
    return np.stack(rows)


def gram_and_content(objective, images01, content01):
    grams = objective.loss.style_targets([s.unsqueeze(0) for s in objective._style01])
    c, s = objective.loss.feature_terms(images01, objective.loss.content_targets(content01), grams)
    return float(c), float(s)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu-minutes", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--style-weight", type=float, default=1e6)
    parser.add_argument("--adversarial-weight", type=float, default=1.0)
    parser.add_argument("--heldout", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/gan_style_quality.json"))
    parser.add_argument("--strip", default=str(ROOT / "docs/gan_style_strip.png"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    size = args.size
    styles = [pil_to_tensor(sample_style(2 * size, 2 * size, seed=i)) for i in range(16)]
    data = datasets.build("content_photos", image_size=size, count=256, seed=0)
    heldout = datasets.build("content_photos", image_size=size, count=args.heldout, seed=1)
    objective = GANStyleObjective(
        generators.build("transformer_net"),
        discriminators.build("patchgan"),
        losses.build("lsgan"),
        feature_extractors.build("random_multiscale"),
        styles,
        style_weight=args.style_weight,
        adversarial_weight=args.adversarial_weight,
        warmup_steps=args.warmup,
        grayscale=True,
    )
    objective._style01 = [s[0] for s in styles]
    nets = objective.networks()
    ctx = Context(nets, objective.optimizer_groups(), 2e-4)
    content = (heldout.get_batch(list(range(len(heldout))))[0] + 1) / 2

    def outputs():
        g = nets["generator"].eval()
        with torch.no_grad():
            out = (g(content * 2 - 1) + 1) / 2
        g.train()
        return out

    budget, start, rng, log = args.cpu_minutes * 60, time.process_time(), None, []
    rng = torch.Generator().manual_seed(0)
    warm = None
    while time.process_time() - start < budget:
        idx = torch.randint(len(data), (args.batch_size,), generator=rng)
        metrics = objective.train_step(nets, data.get_batch(idx), ctx)
        ctx.step += 1
        if ctx.step == args.warmup:
            warm = outputs()
        if ctx.step % 25 == 0:
            row = {k: float(v) for k, v in metrics.items()}
            log.append({"step": ctx.step, "cpu_s": time.process_time() - start, **row})
            print(log[-1], flush=True)
    train_cpu = time.process_time() - start
    final = outputs()
    c_warm, s_warm = gram_and_content(objective, warm, content)
    c_final, s_final = gram_and_content(objective, final, content)
    c_raw, s_raw = gram_and_content(objective, content, content)

    # The independent judge: trained on other photos and other paintings.
    from sklearn.linear_model import LogisticRegression

    judge_content = (datasets.build("content_photos", image_size=size, count=64, seed=2)
                     .get_batch(list(range(64)))[0] + 1) / 2  # fmt: skip
    judge_style = torch.cat([
        pil_to_tensor(sample_style(2 * size, 2 * size, seed=100 + i))[..., :size, :size]
        for i in range(64)
    ])  # fmt: skip
    features = np.concatenate([describe(judge_content), describe(judge_style)])
    labels = np.array([0] * 64 + [1] * 64)
    judge = LogisticRegression(max_iter=2000).fit(features, labels)
    share = float(judge.predict(describe(final)).mean())
    share_raw = float(judge.predict(describe(content)).mean())
    share_warm = float(judge.predict(describe(warm)).mean())
    result = {
        "benchmark": "gan_style quality (issue 10)",
        "machine": f"{platform.machine()}, torch {torch.__version__}, 1 thread",
        "extractor": "random_multiscale (offline; no VGG weights here)",
        "image_size": size,
        "batch_size": args.batch_size,
        "warmup_steps": args.warmup,
        "style_weight": args.style_weight,
        "adversarial_weight": args.adversarial_weight,
        "train_steps": ctx.step,
        "train_cpu_s": round(train_cpu, 1),
        "gram_distance_unstylised": s_raw,
        "gram_distance_after_warmup": s_warm,
        "gram_distance_final": s_final,
        "gram_ratio_final_vs_warmup": s_final / s_warm,
        "content_loss_after_warmup": c_warm,
        "content_loss_final": c_final,
        "content_ratio_final_vs_warmup": c_final / c_warm,
        "classifier_style_share_final": share,
        "classifier_style_share_content": share_raw,
        "classifier_style_share_warmup": share_warm,
        "classifier_train_accuracy": float(judge.score(features, labels)),
        "targets": {"gram_ratio_max": 0.5, "content_ratio_max": 2.0, "style_share_min": 0.8},
        "log": log,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "log"}, indent=2))
    strip([content[:4], warm[:4], final[:4]], args.strip)


if __name__ == "__main__":
    main()
