"""Mode collapse: modes covered and high-quality samples, per loss and counter-measure.

Two data sets whose modes are known exactly:

* ``ring``: a 2-D mixture of 8 Gaussians on a ring (radius 0.8, std 0.02), the
  classic collapse test, with 4-layer MLPs. A sample is high-quality within 3 std
  of a mode; a mode is covered when at least 2% of the samples are high-quality
  samples of it (the measure of Srivastava et al. 2017, VEEGAN, with their 3-std
  rule; the 2% floor keeps single stray samples from counting).
* ``shapes``: the built-in 10-class shapes at 16 px, an unconditional DCGAN. An
  independent classifier (a plain CNN trained on real labelled shapes, never the
  discriminator) labels the samples; a sample is high-quality when the classifier
  is at least 90% sure, and a class is covered when at least 2% of the samples are
  high-quality samples of it.

Methods: the plain GAN loss (non_saturating), hinge, WGAN-GP (wasserstein +
gradient_penalty, n_critic 5), non_saturating + instance noise (0.1, annealed to 0
over the first 1,000 steps), non_saturating + minibatch standard deviation in D. Each
runs the same training CPU time per seed (process CPU time, one torch thread; the
time spent measuring is left out, and a run stops at the first measuring step past
the budget, so its last measurement is the final model).

Every ``every`` steps (400 on the ring, 100 on shapes) the benchmark counts the modes
covered with its own counter above, and MetricCallback measures ``"prdc"`` against
held-out reals (1,000 ring points / 500 shapes, as many samples as reals; features:
the point itself / a label-trained classifier, ``ShapeFeatures``) and records its values
(precision, recall, coverage, spread, mode coverage). Warnings count after a warm-up of a
tenth of the steps the run made; ``--merge`` replays each run's values through the watch's
default rules (:func:`verdicts`, the path a resumed run takes), so the recorded verdicts
are those of the rules as they now stand. Each run's ``trajectory`` holds both per
measuring step, so one can check that the warning fires on the runs that lose or miss
modes and stays quiet on the others; ``plot_collapse.py`` draws modes against steps.

    python benchmarks/gan/bench_collapse.py --seconds 40 --data ring --out ring.json
    python benchmarks/gan/bench_collapse.py --seconds 60 --data shapes --out shapes.json
    # or one process per seed, then one file:
    python benchmarks/gan/bench_collapse.py --seconds 40 --data ring --seeds 0 --out r0.json
    python benchmarks/gan/bench_collapse.py --merge r0.json r1.json r2.json --out ring.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import torch
from bench_conditional import train_classifier
from torch import Tensor, nn

from gst_core.interfaces import Discriminator, FeatureExtractor, ImageGenerator
from gst_core.kinds import discriminators, generators, losses
from gst_core.training import Callback, Trainer
from gst_core.training.metric_callback import CollapseWarning, MetricCallback
from gst_plugins._shared.minibatch_std import MinibatchStdDev
from gst_plugins.datasets.shapes import ProceduralShapes
from gst_plugins.objectives.gan import GANObjective

RADIUS, STD, MODES = 0.8, 0.02, 8
CENTRES = torch.tensor(
    [
        [RADIUS * math.cos(2 * math.pi * k / MODES), RADIUS * math.sin(2 * math.pi * k / MODES)]
        for k in range(MODES)
    ]
)
METHODS = {
    "non_saturating": {"loss": "non_saturating"},
    "hinge": {"loss": "hinge"},
    "wgan_gp": {"loss": "wasserstein", "penalty": True, "n_critic": 5},
    "instance_noise": {"loss": "non_saturating", "instance_noise": 0.1},
    "minibatch_std": {"loss": "non_saturating", "minibatch_std": True},
}


class Ring(torch.utils.data.Dataset):
    """Points of the 8-Gaussian ring as ``(2, 1, 1)`` images; item ``i`` is fixed by ``i``."""

    def __init__(self, count: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        modes = torch.randint(MODES, (count,), generator=g)
        self.points = CENTRES[modes] + STD * torch.randn(count, 2, generator=g)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> Tensor:
        return self.points[i].reshape(2, 1, 1)


class MLPGenerator(ImageGenerator):
    def __init__(self, latent_dim: int = 8, width: int = 128) -> None:
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, (2, 1, 1)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, 2),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z).reshape(-1, 2, 1, 1)


class MLPDiscriminator(Discriminator):
    def __init__(self, width: int = 128, minibatch_std: bool = False) -> None:
        super().__init__()
        self.image_shape = (2, 1, 1)
        self.body = nn.Sequential(
            nn.Linear(2, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2)
        )
        self.std = MinibatchStdDev() if minibatch_std else nn.Identity()
        self.head = nn.Sequential(
            nn.Linear(width + int(minibatch_std), width), nn.LeakyReLU(0.2), nn.Linear(width, 1)
        )

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.std(self.body(images.flatten(1))[:, :, None, None])
        return self.head(h.flatten(1)).flatten()


class Points(FeatureExtractor):
    """The point itself as the feature (for the collapse watch on the ring)."""

    input_size = (1, 1)
    layers = ("pool",)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        return {"pool": images[:, :2].flatten(1) * 2 - 1}


class ShapeFeatures(FeatureExtractor):
    """The collapse watch's features on shapes: a label-trained network's last hidden layer.

    As FID's Inception is a classifier trained on labelled photos, this is a classifier
    trained on labelled shapes; it is not the judge (its own training set, seed 2, and
    initial weights, seed 3), so the watch and the mode count read two networks.
    ``random_pool`` features do not separate the classes (one connected cloud: the watch
    then cuts it into k-means bins, which mix classes).
    """

    input_size = (16, 16)
    layers = ("pool",)

    def __init__(self, held_out: ProceduralShapes) -> None:
        super().__init__()
        train = ProceduralShapes(image_size=16, num_classes=10, per_class=200, seed=2)
        net, self.accuracy = train_classifier(train, held_out, steps=300, seed=3)
        self.body = net[:-1].eval()

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        return {"pool": self.body(images * 2 - 1)}


def objective_for(data: str, method: dict, seed: int) -> GANObjective:
    torch.manual_seed(seed)
    if data == "ring":
        g: nn.Module = MLPGenerator()
        d: nn.Module = MLPDiscriminator(minibatch_std=method.get("minibatch_std", False))
    else:
        g = generators.build("dcgan", image_size=16, latent_dim=64, width=32)
        d = discriminators.build(
            "dcgan",
            image_size=16,
            width=32,
            minibatch_std=method.get("minibatch_std", False),
            batch_norm=False if method.get("penalty") else None,
        )
    penalties = [losses.build("gradient_penalty")] if method.get("penalty") else []
    return GANObjective(
        g,
        d,
        losses.build(method["loss"]),
        penalties,
        n_critic=method.get("n_critic", 1),
        instance_noise=method.get("instance_noise", 0.0),
        instance_noise_steps=method.get("noise_steps", 1000),
    )


def ring_scores(generator: nn.Module, count: int = 2500) -> dict[str, float]:
    with torch.no_grad():
        z = torch.randn(count, generator.latent_dim, generator=torch.Generator().manual_seed(9))
        x = generator(z).flatten(1)
    d = torch.cdist(x, CENTRES)
    nearest, mode = d.min(dim=1)
    good = nearest <= 3 * STD
    per_mode = torch.bincount(mode[good], minlength=MODES)
    return {
        "modes_covered": int((per_mode >= 0.02 * count).sum()),
        "high_quality": float(good.double().mean()),
    }


def shapes_scores(generator: nn.Module, judge: nn.Module, count: int = 1000) -> dict:
    generator.eval()
    with torch.no_grad():
        z = torch.randn(count, generator.latent_dim, generator=torch.Generator().manual_seed(9))
        probs = judge(generator(z)).softmax(dim=1)
    generator.train()
    confidence, label = probs.max(dim=1)
    good = confidence >= 0.9
    per_class = torch.bincount(label[good], minlength=10)
    return {
        "modes_covered": int((per_class >= 0.02 * count).sum()),
        "high_quality": float(good.double().mean()),
    }


class TimedWatch(MetricCallback):
    """The collapse watch, keeping the CPU time it spends so the budget counts training
    only, and the samples it counted per mode at each measurement (so the mode rule can be
    replayed with another ``min_share``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cpu_seconds = 0.0
        self.counts_at: dict[int, list[int] | None] = {}

    def on_step_end(self, trainer: Trainer, step: int, metrics) -> None:
        start = time.process_time()
        super().on_step_end(trainer, step, metrics)
        if self.history and self.history[-1]["step"] == step:
            self.counts_at[step] = self.mode_counts
        self.cpu_seconds += time.process_time() - start


class ModeCounter(Callback):
    """The benchmark's own mode count every ``every`` steps: independent of the watch."""

    def __init__(self, every: int, score) -> None:
        self.every, self.score = every, score
        self.history: list[dict] = []
        self.cpu_seconds = 0.0

    def on_step_end(self, trainer: Trainer, step: int, metrics) -> None:
        if step % self.every:
            return
        start = time.process_time()
        self.history.append({"step": step, **self.score(trainer.networks["generator"])})
        self.cpu_seconds += time.process_time() - start


class TrainingBudget(Callback):
    """Stops at the first measuring step after ``seconds`` of CPU time spent training.

    Process CPU time, not wall time, because the machine is shared; the time the
    measuring callbacks spend is left out, so every method gets the same training time.
    Stopping on a measuring step (this callback runs first) makes the last measurement
    the final model.
    """

    def __init__(self, seconds: float, every: int, measuring: list) -> None:
        self.seconds, self.every, self.measuring = seconds, every, measuring
        self.start = 0.0

    def training_seconds(self) -> float:
        return time.process_time() - self.start - sum(c.cpu_seconds for c in self.measuring)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.start = time.process_time()

    def on_step_end(self, trainer: Trainer, step: int, metrics) -> None:
        if step % self.every == 0 and self.training_seconds() > self.seconds:
            trainer.should_stop = True


def run(data: str, name: str, seed: int, seconds: float, real, held_out, judge, features) -> dict:
    method = METHODS[name]
    objective = objective_for(data, method, seed)
    batch = 256 if data == "ring" else 64
    every = 400 if data == "ring" else 100
    # Recall and coverage against held-out reals, as many samples as reals: coverage of a
    # generator that matches the data is then 1 - 2^-k (0.97 at k = 5), so it reads as the
    # share of the data covered.
    watch = TimedWatch(
        held_out,
        every=every,
        metrics=("prdc",),
        count=len(held_out),
        prdc_k=5,
        extractor=Points() if data == "ring" else features,
        best_metric=None,
        batch_size=500,
        collapse_warmup=0,
    )
    counter = ModeCounter(
        every, ring_scores if data == "ring" else lambda g: shapes_scores(g, judge)
    )
    budget = TrainingBudget(seconds, every, [watch, counter])
    lr = 1e-3 if data == "ring" else 2e-4
    betas = [0.0, 0.9] if method.get("penalty") else [0.5, 0.999]
    config = {
        "steps": 1_000_000,
        "batch_size": batch,
        "seed": seed,
        "progress": False,
        "sample_every": 0,
        "log_every": 0,
        "checkpoint_every": 0,
        "optimizer": {"name": "Adam", "lr": lr, "betas": betas},
    }
    trainer = Trainer(objective, real, config, callbacks=[budget, watch, counter])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit()
    steps = trainer.step
    fired = [w for w in caught if issubclass(w.category, CollapseWarning)]
    # The warm-up is a tenth of the steps the run made (the run's length is not known in
    # advance): the callback's verdicts after it are the ones a run of this length gives.
    warmup = steps // 10
    watched = {h["step"]: h for h in watch.history}
    trajectory = [
        {
            **c,
            **{
                k: round(float(watched[c["step"]][k]), 4)
                for k in ("precision", "recall", "coverage", "spread", "modes", "mode_peak")
            },
            "collapse": bool(watched[c["step"]]["collapse"]) and c["step"] > warmup,
            "mode_counts": watch.counts_at.get(c["step"]),
        }
        for c in counter.history
    ]
    final = trajectory[-1]
    warned_at = [t["step"] for t in trajectory if t["collapse"]]
    return {
        "data": data,
        "method": name,
        "seed": seed,
        "steps": steps,
        "training_cpu_seconds": round(budget.training_seconds(), 1),
        "modes_covered": final["modes_covered"],
        "high_quality": final["high_quality"],
        "best_modes_covered": max(t["modes_covered"] for t in trajectory),
        "recall_last": final["recall"],
        "coverage_last": final["coverage"],
        "collapse_warned": bool(warned_at),
        "first_warning_step": warned_at[0] if warned_at else None,
        "warnings_after_warmup": len(warned_at),
        "warnings_raw": len(fired),
        "warmup_steps": warmup,
        "matched_coverage": watch.matched_coverage,
        "matched_modes": watch.matched_modes,
        "clusters": watch.real_clusters.count,
        "modes_separated": watch.real_clusters.separated,
        "mode_reach": watch.mode_reach,
        "mode_shares": watch.real_clusters.shares.tolist(),
        "mode_min_share": watch.real_clusters.min_share,
        "measuring_cpu_seconds": round(watch.cpu_seconds + counter.cpu_seconds, 1),
        "trajectory": trajectory,
    }


def verdicts(run: dict, **rules) -> list[bool]:
    """The watch's verdict at each measurement of ``run``, its recorded values replayed.

    The same path a resumed run takes (``MetricCallback._collapsing`` fed the measured
    values in order), with the sample-count references the run measured against, so
    rules can be compared on one set of runs: the default rules give the run's own flags.
    """
    watch = MetricCallback(
        torch.zeros(2, 2, 1, 1), metrics=("prdc",), best_metric=None, collapse_warmup=0, **rules
    )
    watch.matched_coverage = run["matched_coverage"]
    # Runs recorded before the per-mode chances were kept: their mean stands for all.
    watch.mode_reach = run.get("mode_reach") or [run["matched_modes"]]
    watch.real_clusters = SimpleNamespace(  # what the rules read of the real modes
        count=run["clusters"], separated=run.get("modes_separated", False)
    )
    stub = SimpleNamespace(config=SimpleNamespace(steps=run["steps"]))
    return [
        bool(watch._collapsing(stub, t["step"], t)) and t["step"] > run["warmup_steps"]
        for t in run["trajectory"]
    ]


def rescore(run: dict) -> dict:
    """``run`` with the verdicts of the watch's current default rules (see :func:`verdicts`)."""
    flags = verdicts(run)
    for t, flag in zip(run["trajectory"], flags, strict=True):
        t["collapse"] = flag
    warned_at = [t["step"] for t in run["trajectory"] if t["collapse"]]
    run["collapse_warned"] = bool(warned_at)
    run["first_warning_step"] = warned_at[0] if warned_at else None
    run["warnings_after_warmup"] = len(warned_at)
    run.pop("warnings_raw", None)  # the live count, under the rules the run started with
    return run


def summarize(results: list[dict]) -> dict:
    summary = {}
    for data in dict.fromkeys(r["data"] for r in results):
        for name in dict.fromkeys(r["method"] for r in results if r["data"] == data):
            rows = sorted(
                (r for r in results if r["data"] == data and r["method"] == name),
                key=lambda r: r["seed"],
            )
            summary[f"{data}/{name}"] = {
                "seeds": [r["seed"] for r in rows],
                "modes_covered": [r["modes_covered"] for r in rows],
                "best_modes_covered": [r["best_modes_covered"] for r in rows],
                "high_quality": [round(r["high_quality"], 3) for r in rows],
                "coverage_last": [r["coverage_last"] for r in rows],
                "warned": [r["collapse_warned"] for r in rows],
                "first_warning_step": [r["first_warning_step"] for r in rows],
                "steps": [r["steps"] for r in rows],
            }
    return summary


def merge(parts: list[Path], out: Path) -> None:
    """One result file from runs made in several processes (same budget, other seeds)."""
    loaded = [json.loads(p.read_text()) for p in parts]
    budgets = {d["conditions"]["training_cpu_seconds_per_run"] for d in loaded}
    if len(budgets) != 1:
        raise SystemExit(f"the parts have different budgets: {sorted(budgets)}")
    runs = [rescore(r) for d in loaded for r in d["runs"]]
    runs.sort(key=lambda r: (r["data"], list(METHODS).index(r["method"]), r["seed"]))
    conditions = {
        **loaded[0]["conditions"],
        "seeds": sorted({r["seed"] for r in runs}),
        "processes": len(parts),
        "wall_seconds": max(d["conditions"]["wall_seconds"] for d in loaded),
        "verdicts": "MetricCallback's default collapse rules, replayed on the recorded values",
        "load_average_at_end": [d["conditions"]["load_average_at_end"] for d in loaded],
    }
    out.write_text(
        json.dumps(
            {
                "benchmark": "gan_collapse",
                "conditions": conditions,
                "summary": summarize(runs),
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(json.dumps(summarize(runs), indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="training CPU seconds per run")
    parser.add_argument("--data", nargs="+", default=["ring", "shapes"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gan_collapse.json"))
    parser.add_argument("--merge", type=Path, nargs="+", help="part result files to merge")
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    torch.set_num_threads(1)
    results = []
    start = time.time()
    for data in args.data:
        if data == "ring":
            real, held_out, judge, features = Ring(20_000, seed=0), Ring(1000, seed=1), None, None
        else:
            real = ProceduralShapes(image_size=16, num_classes=10, per_class=200, seed=0)
            held_out = ProceduralShapes(image_size=16, num_classes=10, per_class=50, seed=1)
            judge, accuracy = train_classifier(real, held_out, steps=300)
            judge.eval()
            features = ShapeFeatures(held_out)
            print(
                f"shapes classifiers: judge {accuracy:.1%}, the watch's features "
                f"{features.accuracy:.1%} on held-out real images",
                flush=True,
            )
        # Seed by seed, every method each time: a run cut short still has every method.
        for seed in args.seeds:
            for name in args.methods:
                r = run(data, name, seed, args.seconds, real, held_out, judge, features)
                results.append(r)
                print(json.dumps({k: v for k, v in r.items() if k != "trajectory"}), flush=True)
                write(args, results, start)


def write(args: argparse.Namespace, results: list[dict], start: float) -> None:
    """The result file as it stands (rewritten after every run, so a cut run keeps its part)."""
    out = {
        "benchmark": "gan_collapse",
        "conditions": {
            "training_cpu_seconds_per_run": args.seconds,
            "threads": 1,
            "seeds": args.seeds,
            "machine": platform.processor() or platform.machine(),
            "note": "shared 2-core CPU, other jobs running; budgets are process CPU time spent "
            "training (measuring left out), ending at the first measuring step past the budget",
            "load_average_at_end": os.getloadavg(),
            "wall_seconds": round(time.time() - start, 1),
        },
        "summary": summarize(results),
        "runs": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
