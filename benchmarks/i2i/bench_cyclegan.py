"""CycleGAN on the built-in unpaired shapes ("day" A ↔ "night" B) for a CPU-time budget.

An independent domain classifier (a small CNN trained here on real A against
real B, not a discriminator of the run) labels the translations of held-out
images: the share of G(A) it calls B and of F(B) it calls A. The cycle L1
``|F(G(A)) − A|`` and ``|G(F(B)) − B|`` is measured on the same held-out images.

    python benchmarks/i2i/bench_cyclegan.py --minutes 10 --threads 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _common import TimeLimit, machine, save_strip, write_json
from torch import nn

from gst_core.training import Trainer
from gst_core.training.build import build_objective
from gst_plugins.datasets.i2i_shapes import UnpairedShapes


def domain_classifier() -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]

    return nn.Sequential(
        *block(3, 16), *block(16, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 2)
    )


def train_classifier(train: UnpairedShapes, test: UnpairedShapes, steps: int = 200):
    """Label 0 for domain A, 1 for B; returns the net and its held-out accuracy."""
    torch.manual_seed(1)
    net = domain_classifier()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(steps):
        a = train.a[torch.randint(len(train.a), (32,))]
        b = train.b[torch.randint(len(train.b), (32,))]
        x = torch.cat([a, b]).float() / 127.5 - 1
        y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    x = torch.cat([test.a, test.b]).float() / 127.5 - 1
    y = torch.cat([torch.zeros(len(test.a)), torch.ones(len(test.b))]).long()
    with torch.no_grad():
        accuracy = (net(x).argmax(1) == y).float().mean().item()
    return net, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget (CPU time)")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--strip", type=Path, default=Path("docs/i2i/cyclegan_strip.png"))
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/i2i_cyclegan.json"))
    parser.add_argument("--run-dir", default="runs/bench-cyclegan")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train = UnpairedShapes(image_size=args.size, count=500, seed=0)
    test = UnpairedShapes(image_size=args.size, count=200, seed=0, split="test", flip=False)
    judge, judge_accuracy = train_classifier(train, test)
    print(f"domain classifier: {judge_accuracy:.1%} on held-out real images")

    config = {
        "generator": {"name": "resnet", "n_blocks": args.blocks, "width": args.width},
        "discriminator": {"name": "patchgan", "width": args.width, "num_layers": 2},
        "loss": {"name": "lsgan"},
    }
    torch.manual_seed(0)
    objective = build_objective("cyclegan", config)
    trainer = Trainer(
        objective,
        train,
        {
            "steps": 1_000_000,
            "batch_size": args.batch_size,
            "optimizer": {"name": "Adam", "lr": args.lr, "betas": [0.5, 0.999]},
            "run_dir": args.run_dir,
            "sample_every": 200,
            "checkpoint_every": 500,
        },
        callbacks=[TimeLimit(args.minutes * 60)],
        spec=config,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.fit()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0

    g_ab = trainer.networks["g_ab"].eval()
    g_ba = trainer.networks["g_ba"].eval()
    real_a = test.a.float() / 127.5 - 1
    real_b = test.b.float() / 127.5 - 1
    with torch.no_grad():
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)
        rec_a, rec_b = g_ba(fake_b), g_ab(fake_a)
        as_b = (judge(fake_b).argmax(1) == 1).float().mean().item()
        as_a = (judge(fake_a).argmax(1) == 0).float().mean().item()
    cycle_a = (rec_a - real_a).abs().mean().item()
    cycle_b = (rec_b - real_b).abs().mean().item()
    rows = torch.cat(
        [
            torch.stack([real_a[:4], fake_b[:4], rec_a[:4]], 1).flatten(0, 1),
            torch.stack([real_b[:4], fake_a[:4], rec_b[:4]], 1).flatten(0, 1),
        ]
    )
    save_strip(rows, 3 * 4, args.strip)
    write_json(
        args.json,
        {
            **machine(),
            "image_size": args.size,
            "generator": config["generator"],
            "batch_size": args.batch_size,
            "lr": args.lr,
            "training_cpu_seconds": round(cpu, 1),
            "training_wall_seconds": round(wall, 1),
            "steps": trainer.step,
            "classifier_accuracy_on_real": round(judge_accuracy, 4),
            "g_ab_labelled_b": round(as_b, 4),
            "g_ba_labelled_a": round(as_a, 4),
            "cycle_l1_a": round(cycle_a, 4),
            "cycle_l1_b": round(cycle_b, 4),
            "units": "cycle L1 in the [-1, 1] training scale (half that in [0, 1] pixel units)",
            "strip": str(args.strip),
        },
    )


if __name__ == "__main__":
    main()
