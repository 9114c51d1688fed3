"""DiffAugment on small data: a GAN on 100 real-photo crops, with and without, FID/KID.

    python benchmarks/gan/bench_diffaugment.py --seconds 60 --seeds 0 1 2 \
        --out benchmarks/results/data_diffaugment.json

100 training crops (32²) of the photographs scikit-image and scikit-learn ship;
500 held-out crops from other positions as the reference set. Each run trains
a small DCGAN for the same CPU time (``--seconds`` of process time, one
thread), with ``augment = ""`` and ``"color,translation,cutout"``, then
measures FID and KID of 500 samples against the held-out crops with the
offline ``random_pool`` extractor (not comparable with published numbers;
comparable between the runs here).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gst_core.kinds import discriminators, generators, losses
from gst_core.metrics import frechet_distance, kernel_distance
from gst_core.metrics.extract import images_features, resolve_extractor
from gst_core.training.callbacks import Callback
from gst_core.training.trainer import Trainer
from gst_plugins.objectives.gan import GANObjective


def photos() -> list[Image.Image]:
    import skimage.data as sk
    from sklearn.datasets import load_sample_images

    names = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel")
    arrays = [getattr(sk, n)() for n in names] + list(load_sample_images().images)
    return [Image.fromarray(a).convert("RGB") for a in arrays]


def crops(count: int, size: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    images, out = photos(), []
    for i in range(count):
        photo = images[i % len(images)]
        side = int(rng.uniform(0.25, 0.6) * min(photo.size))
        x, y = rng.integers(0, photo.width - side + 1), rng.integers(0, photo.height - side + 1)
        crop = photo.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.asarray(crop).copy()).permute(2, 0, 1))
    return torch.stack(out).float() / 127.5 - 1


class Images(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], -1


class CpuBudget(Callback):
    def __init__(self, seconds: float):
        self.seconds, self.start = seconds, time.process_time()

    def on_step_end(self, trainer, step, metrics):
        if time.process_time() - self.start > self.seconds:
            trainer.should_stop = True


def run(train: torch.Tensor, augment: str, seed: int, seconds: float):
    torch.manual_seed(seed)
    g = generators.build("dcgan", image_size=32, width=32, latent_dim=64)
    d = discriminators.build("dcgan", image_size=32, width=32)
    objective = GANObjective(g, d, losses.build("non_saturating"), augment=augment or None)
    config = {"steps": 10**6, "batch_size": 32, "progress": False, "seed": seed, "log_every": 0}
    trainer = Trainer(objective, Images(train), config, callbacks=[CpuBudget(seconds)])
    trainer.fit()
    g.eval()
    with torch.no_grad():
        fake = torch.cat([g(g.sample_latent(100)) for _ in range(5)])
    return fake, trainer.step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train, held_out = crops(100, 32, 0), crops(500, 32, 1)
    extractor, name = resolve_extractor("random_pool", announce=None)

    def features(x):
        return images_features([(x + 1) / 2], extractor, total=len(x), desc="features")

    real = features(held_out)
    rows = []
    for seed in args.seeds:
        for augment in ("", "color,translation,cutout"):
            fake, steps = run(train, augment, seed, args.seconds)
            f = features(fake)
            kid = kernel_distance(real, f, subsets=50, subset_size=100)
            kid = kid[0] if isinstance(kid, tuple) else kid
            row = {
                "seed": seed,
                "augment": augment or "none",
                "steps": steps,
                "fid": frechet_distance(real, f),
                "kid": float(kid),
            }
            print(json.dumps(row))
            rows.append(row)
    result = {
        "benchmark": "benchmarks/gan/bench_diffaugment.py",
        "conditions": f"{args.seconds} s of process time per run, one torch thread, shared CPU "
        f"(load {os.getloadavg()[0]:.1f}); extractor {name} (offline, random weights)",
        "rows": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
