"""Training throughput: gst's Trainer against a plain PyTorch DCGAN loop, in one process.

Both train the same registered DCGAN generator and discriminator (fresh
copies with identical initial weights), with the same loss, optimisers,
batch size and in-memory data. The plain loop is PyTorch's DCGAN example
(fakes reused for the generator step) plus the one change the gst GAN
objective makes: D's weights are frozen during G's update (no wasted
weight gradients), so the ratio measures the trainer's own overhead:
registry-built parts, the step context, the non-finite guard, metrics,
progress bar, PNG grids and checkpoints at their usual intervals.

Rounds alternate plain/gst (order flipped each round) and the median of the
per-round ratios is reported, because the CPU is shared and noisy.

    python benchmarks/gan/bench_throughput.py --steps 60 --rounds 5
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gst_core.data import ProceduralShapes
from gst_core.kinds import discriminators, generators, losses
from gst_core.training import GANObjective, Trainer


def plain_loop(g, d, images, steps: int, batch: int) -> float:
    """PyTorch's DCGAN example loop; returns seconds for ``steps`` steps."""
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = len(images)
    start = time.perf_counter()
    order, pos = torch.randperm(n), 0
    for _ in range(steps):
        if pos + batch > n:
            order, pos = torch.randperm(n), 0
        real = images[order[pos : pos + batch]].float().div_(127.5).sub_(1.0)
        pos += batch
        fake = g(torch.randn(batch, g.latent_dim))
        d.requires_grad_(True)
        opt_d.zero_grad()
        real_scores, fake_scores = d(real), d(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_scores, torch.ones_like(real_scores)
        ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
        loss_d.backward()
        opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad()
        scores = d(fake)
        loss_g = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
        loss_g.backward()
        opt_g.step()
        # a plain loop logs its losses too
        _ = (loss_d.item(), loss_g.item())
    return time.perf_counter() - start


def gst_trainer(g, d, data, steps: int, batch: int, run_dir: str, ema: float) -> float:
    config = {
        "steps": steps,
        "batch_size": batch,
        "ema_decay": ema,
        "run_dir": run_dir,
        "sample_every": 500,
        "checkpoint_every": 1000,
        "log_every": 10,
        "progress": True,
        "optimizer": {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]},
    }
    trainer = Trainer(GANObjective(g, d, losses.build("non_saturating")), data, config)
    start = time.perf_counter()
    trainer.fit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument(
        "--ema-decay",
        type=float,
        default=0.0,
        help="gst only (the plain loop has none); 0 matches the work exactly",
    )
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/gan_throughput.json"))
    args = parser.parse_args()

    data = ProceduralShapes(image_size=args.image_size, num_classes=10, per_class=200)
    torch.manual_seed(0)
    g0 = generators.build("dcgan", image_size=args.image_size, width=args.width, latent_dim=100)
    d0 = discriminators.build("dcgan", image_size=args.image_size, width=args.width)
    # warm-up (allocator, oneDNN primitives) outside the timed rounds
    plain_loop(copy.deepcopy(g0), copy.deepcopy(d0), data.images, 3, args.batch_size)

    ratios, plain_ips, gst_ips = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):

            def run_plain():
                return plain_loop(
                    copy.deepcopy(g0), copy.deepcopy(d0), data.images, args.steps, args.batch_size
                )

            def run_gst(r=r):
                return gst_trainer(
                    copy.deepcopy(g0),
                    copy.deepcopy(d0),
                    data,
                    args.steps,
                    args.batch_size,
                    f"{tmp}/run{r}",
                    args.ema_decay,
                )

            if r % 2 == 0:
                t_plain, t_gst = run_plain(), run_gst()
            else:
                t_gst, t_plain = run_gst(), run_plain()
            images = args.steps * args.batch_size
            plain_ips.append(images / t_plain)
            gst_ips.append(images / t_gst)
            ratios.append(t_plain / t_gst)
            print(
                f"round {r}: plain {images / t_plain:.1f} img/s, gst {images / t_gst:.1f} img/s,"
                f" ratio {t_plain / t_gst:.3f}",
                flush=True,
            )
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs), "
        f"load average {os.getloadavg()[0]:.1f}",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "networks": f"dcgan G and D, {args.image_size}², width {args.width}",
        "batch_size": args.batch_size,
        "ema_decay_gst": args.ema_decay,
        "plain_images_per_second_median": round(statistics.median(plain_ips), 1),
        "gst_images_per_second_median": round(statistics.median(gst_ips), 1),
        "ratio_per_round": [round(x, 3) for x in ratios],
        "ratio_median": round(statistics.median(ratios), 3),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
