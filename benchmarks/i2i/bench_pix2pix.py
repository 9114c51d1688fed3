"""pix2pix on the built-in paired shapes (outline → filled) for a CPU-time budget.

Reports the held-out L1 of the generator's outputs against the targets, next
to the L1 of the best constant prediction (the mean training target image,
the best a model that ignores its input can do under L1 up to the median).

    python benchmarks/i2i/bench_pix2pix.py --minutes 5 --threads 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from _common import TimeLimit, machine, save_strip, write_json

from gst_core.training import Trainer
from gst_core.training.build import build_objective
from gst_plugins.datasets.i2i_shapes import PairedShapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget (CPU time)")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--strip", type=Path, default=Path("docs/i2i/pix2pix_strip.png"))
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/i2i_pix2pix.json"))
    parser.add_argument("--run-dir", default="runs/bench-pix2pix")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    num_downs = args.size.bit_length() - 1  # down to 1×1, as unet_256 does for 256²
    config = {
        "generator": {"name": "unet", "num_downs": num_downs, "width": args.width},
        "discriminator": {"name": "patchgan", "width": args.width, "num_layers": 2},
        "loss": {"name": "non_saturating"},
    }
    torch.manual_seed(0)
    objective = build_objective("pix2pix", config)
    train = PairedShapes(image_size=args.size, count=1000, seed=0)
    test = PairedShapes(image_size=args.size, count=200, seed=0, split="test", flip=False)
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

    g = trainer.networks["generator"].eval()
    held_out = test.get_batch(range(len(test)))
    with torch.no_grad():
        fake = torch.cat([g(a) for a in held_out["A"].split(50)])
    target = held_out["B"]
    mean_image = train.get_batch(range(len(train)))["B"].mean(0, keepdim=True)
    median_image = train.get_batch(range(len(train)))["B"].median(0, keepdim=True).values
    model_l1 = (fake - target).abs().mean().item()
    mean_l1 = (mean_image - target).abs().mean().item()
    median_l1 = (median_image - target).abs().mean().item()
    save_strip(
        torch.stack([held_out["A"][:8], fake[:8], target[:8]], 1).flatten(0, 1), 3 * 4, args.strip
    )
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
            "held_out_l1": round(model_l1, 4),
            "mean_image_l1": round(mean_l1, 4),
            "median_image_l1": round(median_l1, 4),
            "ratio_to_best_constant": round(model_l1 / min(mean_l1, median_l1), 4),
            "units": "L1 in the [-1, 1] training scale, averaged over pixels and channels",
            "strip": str(args.strip),
        },
    )


if __name__ == "__main__":
    main()
