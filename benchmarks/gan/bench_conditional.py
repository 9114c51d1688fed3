"""Class fidelity of a class-conditional GAN trained on the built-in shapes for a time budget.

An independent classifier (a plain CNN, not the discriminator) is trained on
real labelled images and then labels generated samples; the benchmark
reports how often it agrees with the class the generator was asked for.

    python benchmarks/gan/bench_conditional.py --minutes 10 --grid docs/gan_samples.png
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gst_core.images import make_grid, save_image
from gst_core.kinds import discriminators, generators, losses
from gst_core.training import Callback, Trainer
from gst_plugins.datasets.shapes import ProceduralShapes
from gst_plugins.objectives.gan import GANObjective


class TimeLimit(Callback):
    """Stops training after ``seconds`` of this process's CPU time.

    CPU time, not wall time, because the machine is shared: other jobs slow
    the wall clock by 2-4x. On an idle 2-core machine 10 wall-clock minutes
    give up to 20 CPU-minutes, so a 10 CPU-minute budget is the stricter one.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.start = time.process_time()

    def on_step_end(self, trainer: Trainer, step, metrics) -> None:
        if time.process_time() - self.start > self.seconds:
            trainer.should_stop = True


def classifier(num_classes: int) -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]

    return nn.Sequential(
        *block(3, 32),
        *block(32, 64),
        *block(64, 128),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, num_classes),
    )


def train_classifier(
    train: ProceduralShapes, test: ProceduralShapes, steps: int, seed: int = 1
) -> tuple[nn.Module, float]:
    torch.manual_seed(seed)
    net = classifier(train.num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(steps):
        x, y = train.get_batch(torch.randint(len(train), (64,)))
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    x, y = test.get_batch(range(len(test)))
    with torch.no_grad():
        accuracy = (net(x).argmax(1) == y).float().mean().item()
    return net, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="GAN training budget (CPU time)"
    )
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; 1 because on a shared 2-core CPU two threads spin-wait on each "
        "other and ran 10x slower (measured)",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--per-class-samples", type=int, default=100)
    parser.add_argument("--grid", type=Path, default=Path("docs/gan_samples.png"))
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/gan_conditional.json")
    )
    parser.add_argument("--run-dir", default="runs/bench-conditional")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    classes, size = 10, 32
    data = ProceduralShapes(image_size=size, num_classes=classes, per_class=500, seed=0)
    held_out = ProceduralShapes(image_size=size, num_classes=classes, per_class=100, seed=1)
    t0 = time.perf_counter()
    judge, judge_accuracy = train_classifier(data, held_out, steps=300)
    print(
        f"classifier: {judge_accuracy:.1%} on held-out real images "
        f"({time.perf_counter() - t0:.0f} s)"
    )

    torch.manual_seed(0)
    g = generators.build(
        "dcgan_conditional", num_classes=classes, latent_dim=64, image_size=size, width=args.width
    )
    d = discriminators.build(
        "projection", num_classes=classes, image_size=size, width=args.width, spectral_norm=True
    )
    # Settings found on this machine: at lr 2e-4 / TTUR hinge, 400 steps had not separated the
    # classes; non-saturating BCE at lr 1e-3 had per-class colours by step 200.
    objective = GANObjective(g, d, losses.build("non_saturating"))
    config = {
        "steps": 1_000_000,
        "batch_size": args.batch_size,
        "ema_decay": 0.999,
        "optimizer": {"name": "Adam", "lr": 1e-3, "betas": [0.5, 0.999]},
        "run_dir": args.run_dir,
        "sample_every": 100,
        "sample_count": 100,
        "checkpoint_every": 500,
        "progress": True,
    }
    trainer = Trainer(objective, data, config, callbacks=[TimeLimit(args.minutes * 60)])
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.fit()
    train_seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0

    ema_g = trainer.ema["generator"].module.eval()
    n = args.per_class_samples
    labels = torch.arange(classes).repeat_interleave(n)
    rng = torch.Generator().manual_seed(123)
    with torch.no_grad():
        samples = torch.cat(
            [
                ema_g(torch.randn(len(chunk), 64, generator=rng), chunk)
                for chunk in labels.split(250)
            ]
        )
        predicted = torch.cat([judge(chunk).argmax(1) for chunk in samples.split(250)])
    per_class = [(predicted[labels == k] == k).float().mean().item() for k in range(classes)]
    accuracy = (predicted == labels).float().mean().item()

    grid_images = torch.stack([samples[labels == k][:10] for k in range(classes)]).flatten(0, 1)
    save_image(make_grid((grid_images + 1) / 2, nrow=10), args.grid)
    # committed to docs/: a 256-colour palette keeps it small (the full-colour PNG was 205 KB)
    Image.open(args.grid).convert("RGB").quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    ).save(args.grid, optimize=True)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        "(shared with other jobs)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "training_cpu_seconds": round(cpu_seconds, 1),
        "training_wall_seconds": round(train_seconds, 1),
        "steps": trainer.step,
        "images_per_second": round(trainer.step * args.batch_size / train_seconds, 1),
        "classifier_accuracy_on_real": round(judge_accuracy, 4),
        "conditional_accuracy": round(accuracy, 4),
        "per_class_accuracy": {
            name: round(a, 3) for name, a in zip(data.classes, per_class, strict=True)
        },
        "grid": str(args.grid),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
