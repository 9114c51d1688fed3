"""Folder data streamed from disk vs held in memory: peak RSS, time to the first step, images/s.

    python benchmarks/data/bench_streaming.py --sizes 100 1000 5000 \
        --out benchmarks/results/data_streaming.json

Generated JPEG folders (smooth random blobs, so they compress like photos): the GAN
reads ``N`` square images, pix2pix ``N`` side-by-side AB images. Each configuration
runs in a child process of its own (peak RSS is the child's, workers reported
apart); modes: ``memory`` (cache = true, batches gathered in this process),
``stream0`` (cache = false, read in the training process), ``stream2`` (2 workers).

Besides wall-clock images/s (which on a shared CPU mostly measures the share of
the cores the scheduler gives the run), each row records CPU time per image: the
training process's own and its DataLoader workers' (from /proc), and how long
the trainer waited for each batch. ``--interleave R`` adds a second section: the
three modes of one objective built in one process and run in turn, R rounds of
``--steps`` steps each, so their images/s ratios are taken under the same load.
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
import json, os, resource, sys, time
t0 = time.perf_counter()
from gst_core.training.build import build_trainer
from gst_core.training.trainer import Trainer

def worker_cpu():
    # CPU seconds of this process's live children (the DataLoader workers), from /proc.
    total = 0.0
    for tid in os.listdir("/proc/self/task"):
        for kid in open(f"/proc/self/task/{tid}/children").read().split():
            try:
                fields = open(f"/proc/{kid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total

marks, waited = [], [0.0]
original, next_batch = Trainer._run_step, Trainer.next_batch
def timed(self):
    original(self)
    marks.append((time.perf_counter(), time.process_time(), worker_cpu(), waited[0]))
def timed_batch(self):
    t = time.perf_counter()
    batch = next_batch(self)
    waited[0] += time.perf_counter() - t
    return batch
Trainer._run_step, Trainer.next_batch = timed, timed_batch

def measure(trainers, steps, rounds):
    # Each trainer runs `steps` steps in turn, `rounds` times: the same load for all of them.
    rows = []
    for r in range(rounds):
        for mode, trainer in trainers.items():
            del marks[:]
            for _ in range(steps):
                trainer._run_step()
            rows.append({"round": r, "mode": mode, **summary(marks, trainer)})
    return rows

def summary(marks, trainer):
    warm = marks[2:] if len(marks) > 4 else marks  # the first steps start the workers
    (w0, c0, k0, q0), (w1, c1, k1, q1) = warm[0], warm[-1]
    n = (len(warm) - 1) * trainer.config.batch_size
    return {"images_per_s": n / (w1 - w0), "main_cpu_ms_per_image": (c1 - c0) / n * 1e3,
            "worker_cpu_ms_per_image": (k1 - k0) / n * 1e3,
            "wait_ms_per_step": (q1 - q0) / (len(warm) - 1) * 1e3, "load": os.getloadavg()[0]}

spec, steps, rounds = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
if rounds:  # interleaved: {mode: config}
    trainers = {}
    for mode, config in spec.items():
        trainers[mode] = build_trainer(config, config.pop("objective"))
    for trainer in trainers.values():  # start every stream (workers, caches) first
        for _ in range(2):
            trainer._run_step()
    print(json.dumps(measure(trainers, steps, rounds)))
    raise SystemExit
config = spec
trainer = build_trainer(config, config.pop("objective"))
trainer.fit()
row = {"first_step_s": marks[0][0] - t0, **summary(marks, trainer)}
trainer._stream = None  # ends the DataLoader's workers, so their peak RSS is counted
import gc; gc.collect()
row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
row["worker_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
row["storage"] = trainer.data.storage_note
print(json.dumps(row))
"""


def _blob_image(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    small = rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return image.filter(ImageFilter.GaussianBlur(2))


def make_folders(root: Path, count: int, size: int) -> tuple[Path, Path]:
    """Folders of ``count`` images: links to the first ``count`` of one generated pool per
    side, so the 100-, 1,000- and 5,000-image folders share their files."""
    rng = np.random.default_rng(size)
    out = []
    for kind, width in (("gan", size), ("pix2pix", 2 * size)):
        pool = root / f"pool_{kind}_{size}"
        pool.mkdir(parents=True, exist_ok=True)
        for i in range(len(list(pool.glob("*.jpg"))), count):
            _blob_image(rng, width, size).save(pool / f"{i:05d}.jpg", quality=90)
        folder = root / f"{kind}_{count}_{size}"
        folder.mkdir(exist_ok=True)
        for i in range(count):
            link = folder / f"{i:05d}.jpg"
            if not link.exists():
                link.symlink_to(pool / link.name)
        out.append(folder)
    return out[0], out[1]


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


def run_child(spec: dict, steps: int, rounds: int, env: dict) -> object:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec), str(steps), str(rounds)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratios(rounds: list[dict]) -> dict[str, float]:
    """Median over rounds of each mode's images/s over the in-memory run of the same round."""
    out = {}
    for mode in ("stream0", "stream2"):
        per_round = []
        for r in {row["round"] for row in rounds}:
            got = {row["mode"]: row["images_per_s"] for row in rounds if row["round"] == r}
            per_round.append(got[mode] / got["memory"])
        out[f"{mode}_over_memory"] = float(np.median(per_round))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--image", type=int, default=512, help="side of the JPEGs on disk")
    parser.add_argument("--crop", type=int, default=64, help="training image size")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--work", type=Path, default=Path("/tmp/gst_bench_streaming"))
    parser.add_argument("--objectives", nargs="+", default=["gan", "pix2pix"])
    parser.add_argument("--interleave", type=int, default=0, help="rounds (0: none)")
    parser.add_argument("--interleave-size", type=int, default=1000)
    parser.add_argument("--no-rows", action="store_true", help="only the interleaved section")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    modes = ("memory", "stream0", "stream2")
    rows = []
    for count in [] if args.no_rows else args.sizes:
        started = time.perf_counter()
        gan, pairs = make_folders(args.work, count, args.image)
        print(f"folders of {count}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for mode in modes:
            for name in args.objectives:
                config = configs(gan, pairs, mode, args.crop)[name]
                config["train"]["steps"] = args.steps
                row = {"objective": name, "images": count, "mode": mode}
                row.update(run_child(config, args.steps, 0, env))  # type: ignore[arg-type]
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    interleaved = []
    if args.interleave:
        gan, pairs = make_folders(args.work, args.interleave_size, args.image)
        for name in args.objectives:
            spec = {m: configs(gan, pairs, m, args.crop)[name] for m in modes}
            for config in spec.values():
                config["train"]["steps"] = 10**9
            rounds = run_child(spec, args.steps, args.interleave, env)
            entry = {"objective": name, "images": args.interleave_size, "rounds": rounds}
            entry.update(ratios(rounds))  # type: ignore[arg-type]
            print(json.dumps(entry), file=sys.stderr)
            interleaved.append(entry)
    result = {
        "benchmark": "benchmarks/data/bench_streaming.py",
        "conditions": (
            f"shared 2-core CPU under load from other sessions (os.getloadavg at the end: "
            f"{os.getloadavg()[0]:.1f}); OMP_NUM_THREADS=1; {args.image}² JPEGs on disk, "
            f"trained at {args.crop}², batch 16, {args.steps} steps per run (per round when "
            "interleaved), images/s and CPU per image over the steps after the first two; tiny "
            "networks (dcgan width 16; unet num_downs 6 width 8 + patchgan width 8) so the data "
            "path is a visible share of a step"
        ),
        "rows": rows,
        "interleaved": interleaved,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
