"""FID/KID of the class-conditional GAN on the built-in shapes, next to the real-data floor.

Three disjoint splits of the procedural shapes (different seeds): the
training set (5000 images), a held-out real set (1000) that the generator is
measured against, and a second real set (1000) whose FID/KID against the
held-out set is the floor: what a perfect generator would score with this
many samples. The GAN (the settings of benchmarks/gan/bench_conditional.py)
trains for a CPU-time budget with :class:`MetricCallback` measuring every
``--every`` steps; the untrained generator is measured too.

The feature network is ``auto``: the FID InceptionV3 when its weights are on
the machine, else the offline ``random_pool`` (then the values are for
comparing runs here, not with published FID).

    python benchmarks/metrics/bench_gan_fid.py --minutes 6

writes benchmarks/results/metrics_gan_fid.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from gst_core.kinds import discriminators, generators, losses
from gst_core.metrics import frechet_distance, generator_features, kernel_distance
from gst_core.metrics.extract import images_features, resolve_extractor
from gst_core.training import Callback, Trainer
from gst_core.training.metric_callback import MetricCallback
from gst_plugins.datasets.shapes import ProceduralShapes
from gst_plugins.objectives.gan import GANObjective


class TimeLimit(Callback):
    """Stops after ``seconds`` of this process's CPU time (the machine is shared)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0

    def on_fit_start(self, trainer) -> None:
        self.start = time.process_time()

    def on_step_end(self, trainer, step, metrics) -> None:
        if time.process_time() - self.start > self.seconds:
            trainer.should_stop = True


def real_features(dataset: ProceduralShapes, extractor) -> torch.Tensor:
    x, _ = dataset.get_batch(range(len(dataset)))
    return images_features(((x + 1) / 2).split(100), extractor, progress=False)


def scores(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    kid, kid_std = kernel_distance(real, fake, subsets=100, subset_size=1000, seed=0)
    return {"fid": frechet_distance(real, fake), "kid": kid, "kid_std": kid_std}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0, help="training CPU-time budget")
    parser.add_argument("--every", type=int, default=1000, help="steps between measurements")
    parser.add_argument("--samples", type=int, default=1000, help="generated samples per measure")
    parser.add_argument("--extractor", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--run-dir", default="runs/bench-fid")
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/metrics_gan_fid.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    classes, size = 10, 32
    train = ProceduralShapes(image_size=size, num_classes=classes, per_class=500, seed=0)
    held_out = ProceduralShapes(image_size=size, num_classes=classes, per_class=100, seed=1)
    second = ProceduralShapes(image_size=size, num_classes=classes, per_class=100, seed=2)
    extractor, name = resolve_extractor(args.extractor)
    held_features = real_features(held_out, extractor)
    floor = scores(held_features, real_features(second, extractor))
    print(f"floor (second real split vs held-out): {floor}")

    torch.manual_seed(0)
    g = generators.build(
        "dcgan_conditional", num_classes=classes, latent_dim=64, image_size=size, width=32
    )
    d = discriminators.build(
        "projection", num_classes=classes, image_size=size, width=32, spectral_norm=True
    )
    untrained = scores(
        held_features,
        generator_features(g, args.samples, extractor, batch_size=100, progress=False).features,
    )
    print(f"untrained generator: {untrained}")

    metric = MetricCallback(
        held_out,
        every=args.every,
        metrics=("fid", "kid"),
        count=args.samples,
        extractor=extractor,
        batch_size=100,
    )
    config = {
        "steps": 1_000_000,
        "batch_size": 32,
        "ema_decay": 0.999,
        "optimizer": {"name": "Adam", "lr": 1e-3, "betas": [0.5, 0.999]},
        "run_dir": args.run_dir,
        "sample_every": 0,
        "checkpoint_every": 0,
        "log_every": 100,
        "progress": True,
    }
    trainer = Trainer(
        GANObjective(g, d, losses.build("non_saturating")),
        train,
        config,
        callbacks=[metric, TimeLimit(args.minutes * 60)],
    )
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.fit()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    final = metric.measure(trainer)  # the EMA generator at the last step
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        "(shared with other jobs)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "extractor": name,
        "comparable_with_published": bool(getattr(extractor, "comparable", False)),
        "feature_dim": int(held_features.shape[1]),
        "real_held_out": len(held_out),
        "generated_samples": args.samples,
        "training_cpu_seconds": round(cpu, 1),
        "training_wall_seconds": round(wall, 1),
        "steps": trainer.step,
        "floor_second_real_split": floor,
        "untrained_generator": untrained,
        "trained_generator_ema": final,
        "during_training": metric.history,
        "best": metric.best,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
