"""Folder data streamed from disk vs held in memory: peak RSS, time to the first step, images/s.

    python benchmarks/data/bench_streaming.py --sizes 100 1000 5000 \
        --out benchmarks/results/data_streaming.json

Generated JPEG folders (smooth random blobs, so they compress like photos): the GAN
reads ``N`` square images, pix2pix ``N`` side-by-side AB images. Each configuration
runs in a child process of its own (peak RSS is the child's, workers reported
apart); modes: ``memory`` (cache = true, batches gathered in this process),
``stream0`` (cache = false, read in the training process), ``stream2`` (2 workers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from gst_core.training.build import build_trainer
from gst_core.training.trainer import Trainer
config, steps = json.loads(sys.argv[1]), int(sys.argv[2])
times = []
original = Trainer._run_step
def timed(self):
    original(self)
    times.append(time.perf_counter())
Trainer._run_step = timed
trainer = build_trainer(config, config.pop("objective"))
trainer.fit()
trainer._stream = None  # ends the DataLoader's workers, so their peak RSS is counted
import gc; gc.collect()
warm = times[2:]  # the first steps start the workers and warm the caches
per_step = (warm[-1] - warm[0]) / (len(warm) - 1)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
row = {"first_step_s": times[0] - t0, "peak_rss_mib": own, "worker_peak_rss_mib": kids}
row["images_per_s"] = config["train"]["batch_size"] / per_step
row["storage"] = trainer.data.storage_note
print(json.dumps(row))
"""


def _blob_image(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    small = rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return image.filter(ImageFilter.GaussianBlur(2))


def make_folders(root: Path, count: int, size: int) -> tuple[Path, Path]:
    gan, pairs = root / f"gan_{count}", root / f"pix2pix_{count}"
    rng = np.random.default_rng(count)
    for folder, width in ((gan, size), (pairs, 2 * size)):
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(len(list(folder.glob("*.jpg"))), count):
            _blob_image(rng, width, size).save(folder / f"{i:05d}.jpg", quality=90)
    return gan, pairs


def configs(gan: Path, pairs: Path, mode: str, image: int) -> dict[str, dict]:
    cache = mode == "memory"
    workers = 2 if mode == "stream2" else 0
    train = {
        "batch_size": 16,
        "num_workers": workers,
        "progress": False,
        "log_every": 0,
        "sample_every": 0,
        "checkpoint_every": 0,
        "seed": 0,
    }
    return {
        "gan": {
            "objective": "gan",
            "generator": {"name": "dcgan", "image_size": image, "width": 16, "latent_dim": 32},
            "discriminator": {"name": "dcgan", "image_size": image, "width": 16},
            "loss": {"name": "hinge"},
            "data": {
                "name": "folder",
                "root": str(gan),
                "image_size": image,
                "flip": True,
                "cache": cache,
            },
            "train": train,
        },
        "pix2pix": {
            "objective": "pix2pix",
            "generator": {"name": "unet", "num_downs": 6, "width": 8},
            "discriminator": {"name": "patchgan", "width": 8, "channels": 6},
            "data": {
                "name": "paired",
                "root": str(pairs),
                "image_size": image,
                "load_size": image + image // 8,
                "cache": cache,
            },
            "train": train,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--image", type=int, default=256, help="side of the JPEGs on disk")
    parser.add_argument("--crop", type=int, default=64, help="training image size")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--work", type=Path, default=Path("/tmp/gst_bench_streaming"))
    parser.add_argument("--objectives", nargs="+", default=["gan", "pix2pix"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = []
    for count in args.sizes:
        started = time.perf_counter()
        gan, pairs = make_folders(args.work, count, args.image)
        print(f"folders of {count}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for mode in ("memory", "stream0", "stream2"):
            for name in args.objectives:
                config = configs(gan, pairs, mode, args.crop)[name]
                config["train"]["steps"] = args.steps
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, json.dumps(config), str(args.steps)],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=900,
                )
                if done.returncode:
                    raise SystemExit(done.stderr[-2000:])
                row = {
                    "objective": name,
                    "images": count,
                    "mode": mode,
                    **json.loads(done.stdout.strip().splitlines()[-1]),
                }
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    result = {
        "benchmark": "benchmarks/data/bench_streaming.py",
        "conditions": (
            f"shared 2-core CPU under load from other sessions (os.getloadavg at the end: "
            f"{os.getloadavg()[0]:.1f}); OMP_NUM_THREADS=1; {args.image}² JPEGs on disk "
            f"(the issue asks 512²: scaled down for this CPU), trained at {args.crop}², batch 16, "
            f"{args.steps} steps, images/s over the steps after the first two; tiny networks "
            "(dcgan width 16; unet num_downs 6 width 8 + patchgan width 8) so the data path is "
            "a visible share of a step"
        ),
        "rows": rows,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
