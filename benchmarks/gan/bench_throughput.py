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
per-round ratios is reported. Both wall-clock and process CPU time are
recorded: on a shared machine the wall clock swings 0.5-2x from one run to
the next with other people's jobs, while CPU time (single-threaded by
default, ``--threads``) measures the work each loop does.

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

from gst_core.kinds import discriminators, generators, losses
from gst_core.training import Trainer
from gst_plugins.datasets.shapes import ProceduralShapes
from gst_plugins.objectives.gan import GANObjective


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def plain_loop(g, d, images, steps: int, batch: int) -> None:
    """PyTorch's DCGAN example loop."""
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = len(images)
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


def gst_trainer(g, d, data, steps: int, batch: int, run_dir: str, ema: float) -> None:
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
    Trainer(GANObjective(g, d, losses.build("non_saturating")), data, config).fit()


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
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/gan_throughput.json"))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    data = ProceduralShapes(image_size=args.image_size, num_classes=10, per_class=200)
    torch.manual_seed(0)
    g0 = generators.build("dcgan", image_size=args.image_size, width=args.width, latent_dim=100)
    d0 = discriminators.build("dcgan", image_size=args.image_size, width=args.width)
    # warm-up (allocator, oneDNN primitives) outside the timed rounds
    plain_loop(copy.deepcopy(g0), copy.deepcopy(d0), data.images, 3, args.batch_size)

    images = args.steps * args.batch_size
    rows = []  # (plain wall, plain cpu, gst wall, gst cpu) per round
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):

            def run_plain():
                return timed(
                    lambda: plain_loop(
                        copy.deepcopy(g0),
                        copy.deepcopy(d0),
                        data.images,
                        args.steps,
                        args.batch_size,
                    )
                )

            def run_gst(r=r):
                return timed(
                    lambda: gst_trainer(
                        copy.deepcopy(g0),
                        copy.deepcopy(d0),
                        data,
                        args.steps,
                        args.batch_size,
                        f"{tmp}/run{r}",
                        args.ema_decay,
                    )
                )

            if r % 2 == 0:
                plain, gst = run_plain(), run_gst()
            else:
                gst, plain = run_gst(), run_plain()
            rows.append((*plain, *gst))
            print(
                f"round {r}: wall plain {images / plain[0]:.1f} img/s, gst "
                f"{images / gst[0]:.1f} img/s, ratio {plain[0] / gst[0]:.3f}; CPU-time ratio "
                f"{plain[1] / gst[1]:.3f}",
                flush=True,
            )

    def median(values):
        return round(statistics.median(values), 3)

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs), "
        f"load average {os.getloadavg()[0]:.1f}",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "networks": f"dcgan G and D, {args.image_size}², width {args.width}",
        "batch_size": args.batch_size,
        "ema_decay_gst": args.ema_decay,
        "steps_per_run": args.steps,
        "plain_images_per_wall_second_median": median([images / r[0] for r in rows]),
        "gst_images_per_wall_second_median": median([images / r[2] for r in rows]),
        "plain_images_per_cpu_second_median": median([images / r[1] for r in rows]),
        "gst_images_per_cpu_second_median": median([images / r[3] for r in rows]),
        "wall_ratio_per_round": [round(r[0] / r[2], 3) for r in rows],
        "cpu_ratio_per_round": [round(r[1] / r[3], 3) for r in rows],
        "wall_ratio_median": median([r[0] / r[2] for r in rows]),
        "cpu_ratio_median": median([r[1] / r[3] for r in rows]),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
