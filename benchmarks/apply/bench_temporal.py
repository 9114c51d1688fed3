"""Does ``[objective] temporal_weight`` make stylised video flicker less? (issue 25)

Trains the same feed-forward style network with and without the compound temporal term
(Wang et al., AAAI 2020) for the same process CPU time each (one torch thread, the runs in
parallel child processes so they share the machine's load), then applies both to held-out
clips made from photos that training never saw, and reports for each model:

* the warping error of its output clips (``gst eval warp``'s measure: DIS flow on the
  *input* frames, occlusions masked), and its ratio without → with the term;
* the style loss (unweighted Gram term against the style image) and the content loss
  (unweighted, against each input frame) on the same frames.

Content for training: random crops (position, scale, mirror) of real photos: scikit-learn's
two sample photos and scikit-image's ``astronaut`` and ``coffee``. Held-out clips: a pan
(whole-pixel steps, so the true flow is a shift) and a zoom (1% a frame, about the centre)
over scikit-image's ``rocket`` and ``stereo_motorcycle`` (the test clips), and the same over
``chelsea`` (the pilot clips: reported apart, to choose a weight without the test clips).
Style: scikit-image's ``gravel`` texture. The extractor is the offline ``random_multiscale``
(no VGG weights can be downloaded here), as `gst train fast_style` uses without weights.

    python benchmarks/apply/bench_temporal.py --cpu-minutes 4 --weights 0 10 100 \\
        --out benchmarks/results/temporal_fast_style.json --strip docs/temporal_strip.png

The first weight is the baseline (0: without the term); the strip shows it and the last.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gst_plugins._shared.temporal import WARP_MODES

ROOT = Path(__file__).resolve().parents[2]
TRAIN_PHOTOS = ("china", "flower", "astronaut", "coffee")
TEST_PHOTOS = ("rocket", "stereo_motorcycle")
PILOT_PHOTOS = ("chelsea",)


def photo(name: str) -> Image.Image:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image(f"{name}.jpg"))
    from skimage import data

    image = getattr(data, name)()
    return Image.fromarray(image[0] if isinstance(image, tuple) else image).convert("RGB")


def style_image(size: int) -> torch.Tensor:
    from skimage import data

    gray = Image.fromarray(data.gravel()).convert("RGB").resize((size, size), Image.LANCZOS)
    return torch.from_numpy(np.asarray(gray).copy()).permute(2, 0, 1)[None].float() / 255


def training_crops(count: int, size: int, seed: int = 0) -> torch.Tensor:
    """``count`` random crops (35–100% of the short side, mirrored half the time), [-1, 1]."""
    rng = np.random.default_rng(seed)
    photos = [photo(n) for n in TRAIN_PHOTOS]
    crops = []
    for i in range(count):
        image = photos[i % len(photos)]
        side = int(rng.uniform(0.35, 1.0) * min(image.size))
        x0 = int(rng.integers(0, image.width - side + 1))
        y0 = int(rng.integers(0, image.height - side + 1))
        crop = image.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.LANCZOS)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crops.append(np.asarray(crop))
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 127.5 - 1


def clips(names: tuple[str, ...], side: int, frames: int) -> dict[str, np.ndarray]:
    """Per photo a pan (2 px right, 1 px down a frame) and a zoom (1% a frame), uint8 THWC."""
    out = {}
    for name in names:
        image = photo(name)
        scale = 1.5 * side / min(image.size)  # the photo at about the training crops' scale
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        pixels = np.asarray(image)
        y0, x0 = (pixels.shape[0] - side) // 2 - frames // 2, (pixels.shape[1] - side) // 4
        out[f"{name}_pan"] = np.stack(
            [pixels[y0 + t : y0 + t + side, x0 + 2 * t : x0 + 2 * t + side] for t in range(frames)]
        )
        cy, cx = image.height / 2, image.width / 2
        zoom = []
        for t in range(frames):
            half = 0.5 * 1.3 * side * 0.99**t
            box = (cx - half, cy - half, cx + half, cy + half)
            zoom.append(np.asarray(image.resize((side, side), Image.BICUBIC, box=box)))
        out[f"{name}_zoom"] = np.stack(zoom)
    return out


class Context:
    """The step context an objective needs, for a plain loop with one Adam per group."""

    def __init__(self, networks, groups, lr: float) -> None:
        self.step, self.device = 0, torch.device("cpu")
        self.optimizers = {
            g: torch.optim.Adam([p for n in names for p in networks[n].parameters()], lr=lr)
            for g, names in groups.items()
        }

    def autocast(self):
        return contextlib.nullcontext()

    def optimize(self, group: str, loss: torch.Tensor) -> None:
        self.optimizers[group].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers[group].step()


#: The ``[objective] temporal_*`` options besides the weight that the command line sets
#: (``--temporal-samples`` ...) for the runs with the term, passed on to the objective.
TEMPORAL_OPTIONS = ("samples", "start", "noise", "warp")


def temporal_options(args: argparse.Namespace) -> dict:
    """``{"temporal_samples": ..., ...}`` from the parsed command line."""
    return {f"temporal_{name}": getattr(args, f"temporal_{name}") for name in TEMPORAL_OPTIONS}


def build_objective(kind: str, size: int, weight: float, **temporal):
    """The objective for ``temporal_weight = weight``; ``temporal``: its other options."""
    from gst_core.kinds import feature_extractors, generators

    style = style_image(2 * size)
    if kind == "fast_style":
        from gst_plugins.objectives.fast_style import FastStyleObjective

        extractor = feature_extractors.build("random_multiscale")
        return FastStyleObjective(
            generators.build("transformer_net"),
            extractor,
            style,
            temporal_weight=weight,
            **temporal,
        )
    from gst_plugins.objectives.adain import OFFLINE_ENCODER, AdaINObjective, build_encoder

    encoder = build_encoder(OFFLINE_ENCODER, ("relu1_1", "relu2_1", "relu3_1", "relu4_1"))
    decoder = generators.build("adain_decoder", width_multiplier=0.25, in_channels=128)
    return AdaINObjective(decoder, encoder, [style], temporal_weight=weight, **temporal)


def train_one(args) -> None:
    """Child process: train one model for the CPU budget, save its weights and log."""
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)  # the initial weights
    objective = build_objective(args.objective, args.size, args.train_one, **temporal_options(args))
    data = training_crops(args.crops, args.size)
    nets = objective.networks()
    ctx = Context(nets, objective.optimizer_groups(), args.lr)
    rng = torch.Generator().manual_seed(args.seed)  # the batches
    log, snapshots, start = [], {}, time.process_time()
    while time.process_time() - start < args.cpu_minutes * 60:
        batch = data[torch.randint(len(data), (args.batch_size,), generator=rng)]
        metrics = objective.train_step(nets, (batch, torch.zeros(len(batch))), ctx)
        ctx.step += 1
        if ctx.step % 25 == 0:
            row = {k: round(float(v), 6) for k, v in metrics.items()}
            log.append({"step": ctx.step, "cpu_s": round(time.process_time() - start, 1), **row})
            print(args.train_one, log[-1], flush=True)
            # Weights every 25 steps: the equal-steps comparison reads them.
            snapshots[ctx.step] = {
                n: {k: v.clone() for k, v in net.state_dict().items()} for n, net in nets.items()
            }
    torch.save(
        {
            "state": {n: net.state_dict() for n, net in nets.items()},
            "steps": ctx.step,
            "cpu_s": time.process_time() - start,
            "log": log,
            "snapshots": snapshots,
        },
        args.save,
    )


def stylise_fn(kind: str, objective):
    """Frames ``(N, 3, H, W)`` in [0, 1] → stylised frames in [0, 1]."""
    if kind == "fast_style":
        g = objective.generator.eval()
        return lambda x: ((g(x * 2 - 1) + 1) / 2).clamp(0, 1)
    from gst_core.feature_stats import adain, mean_std

    enc, dec, last = objective.encoder, objective.decoder.eval(), objective.layers[-1]
    stats = mean_std(enc(next(iter(objective.styles)))[last])
    return lambda x: dec(adain(enc(x)[last], *stats)).clamp(0, 1)


def style_content(kind: str, objective, out01: torch.Tensor, in01: torch.Tensor):
    """Unweighted (style, content) losses of stylised frames: the objective's own terms."""
    if kind == "fast_style":
        loss = objective.loss
        c, s = loss.feature_terms(out01, loss.content_targets(in01), objective.style_grams)
        return float(s), float(c)
    from gst_core.feature_stats import adain, mean_std
    from gst_plugins.objectives.adain import adain_losses

    enc, layers = objective.encoder, objective.layers
    style = enc(next(iter(objective.styles)))
    stats = {n: tuple(t.expand(len(in01), -1, -1, -1) for t in mean_std(style[n])) for n in layers}
    target = adain(enc(in01)[layers[-1]], *stats[layers[-1]])
    c, s = adain_losses(enc(out01), target, stats, layers)
    return float(s), float(c)


def evaluate(kind: str, objective, videos: dict[str, np.ndarray]) -> tuple[dict, dict]:
    from gst_core.metrics.warp_error import warping_error

    stylise = stylise_fn(kind, objective)
    result, outputs = {}, {}
    with torch.no_grad():
        for name, frames in videos.items():
            x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
            y = torch.cat([stylise(x[i : i + 4]) for i in range(0, len(x), 4)])
            out = (y * 255).round().byte().permute(0, 2, 3, 1).numpy()
            style, content = style_content(kind, objective, y, x)
            warp = warping_error(list(out), list(frames))
            result[name] = {"warping_error": warp["warping_error"], "style_loss": style,
                            "content_loss": content,
                            "masked_fraction": warp["masked_fraction"]}  # fmt: skip
            outputs[name] = out
    for key in ("warping_error", "style_loss", "content_loss"):
        result.setdefault("mean", {})[key] = float(
            np.mean([v[key] for k, v in result.items() if k != "mean"])
        )
    return result, outputs


def evaluate_state(kind: str, size: int, samples: int, w: float, state: dict, videos: dict):
    """A pool worker: :func:`evaluate` of the weights ``state`` (one thread)."""
    torch.set_num_threads(1)
    objective = build_objective(kind, size, w, temporal_samples=samples)
    for name, net in objective.networks().items():
        net.load_state_dict(state[name])
    return evaluate(kind, objective, videos)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objective", choices=["fast_style", "adain"], default="fast_style")
    parser.add_argument("--cpu-minutes", type=float, default=5.0)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 30.0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--crops", type=int, default=256)
    parser.add_argument("--clip-size", type=int, default=160)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument(
        "--temporal-samples",
        type=int,
        default=0,
        help="temporal_samples for the runs with the term (0: the whole batch)",
    )
    parser.add_argument(
        "--temporal-start",
        type=int,
        default=0,
        help="temporal_start for the runs with the term (the step it begins at)",
    )
    parser.add_argument(
        "--temporal-noise",
        type=float,
        default=0.02,
        help="temporal_noise for the runs with the term (the noise's std on [-1, 1] images)",
    )
    parser.add_argument(
        "--temporal-warp",
        choices=WARP_MODES,
        default="bilinear",
        help="temporal_warp for the runs with the term",
    )
    parser.add_argument(
        "--models",
        type=Path,
        help="keep the trained models here; ones already there are not retrained",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the initial weights and the batch order"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--strip", type=Path)
    parser.add_argument("--train-one", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_one is not None:
        return train_one(args)

    torch.set_num_threads(1)
    load = os.getloadavg()
    with contextlib.ExitStack() as stack:
        tmp = args.models or stack.enter_context(tempfile.TemporaryDirectory())
        Path(tmp).mkdir(parents=True, exist_ok=True)
        children = []
        for w in args.weights:
            save = Path(tmp) / f"w{w}.pt"
            if save.exists():  # trained by an earlier call with the same --models
                children.append((w, save, None))
                continue
            argv = [sys.executable, __file__, "--train-one", str(w), "--save", str(save),
                    "--objective", args.objective, "--cpu-minutes", str(args.cpu_minutes),
                    "--size", str(args.size), "--batch-size", str(args.batch_size),
                    "--lr", str(args.lr), "--crops", str(args.crops),
                    "--seed", str(args.seed)]  # fmt: skip
            for option, value in temporal_options(args).items():
                argv += ["--" + option.replace("_", "-"), str(value)]
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            children.append((w, save, subprocess.Popen(argv, env=env)))
        trained = {}
        for w, save, child in children:
            if child is not None and child.wait() != 0:
                raise SystemExit(f"training with temporal_weight {w} failed")
            trained[w] = torch.load(save, weights_only=True)

    videos = clips(TEST_PHOTOS, args.clip_size, args.frames)
    pilot = clips(PILOT_PHOTOS, args.clip_size, args.frames)
    from gst_core.metrics.warp_error import warping_error

    # Equal steps: each later run's last 25-step snapshot against the first run's at that step.
    base_snaps, equal = trained[args.weights[0]]["snapshots"], {}
    for w in args.weights[1:]:
        common = [s for s in trained[w]["snapshots"] if s in base_snaps]
        if common:
            equal[w] = max(common)
    jobs = {("final", w): (w, saved["state"], {**videos, **pilot}) for w, saved in trained.items()}
    for w, step in equal.items():
        jobs[("step", w)] = (w, trained[w]["snapshots"][step], videos)
        jobs[("step", args.weights[0], step)] = (args.weights[0], base_snaps[step], videos)
    # One process per evaluation, one thread each, as the training: the machine is shared.
    kind, size, samples = args.objective, args.size, args.temporal_samples
    with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {key: pool.submit(evaluate_state, kind, size, samples, *job)
                   for key, job in jobs.items()}  # fmt: skip
        done = {key: f.result() for key, f in futures.items()}

    def part(scores: dict, names) -> dict:
        out = {n: scores[n] for n in names}
        keys = ("warping_error", "style_loss", "content_loss")
        return {**out, "mean": {k: float(np.mean([v[k] for v in out.values()])) for k in keys}}

    runs, outputs = {}, {}
    for w, saved in trained.items():
        scores, outs = done[("final", w)]
        outputs[w] = outs
        runs[str(w)] = {"temporal_weight": w, "train_steps": saved["steps"],
                        "train_cpu_s": round(saved["cpu_s"], 1), "clips": part(scores, videos),
                        "pilot_clips": part(scores, pilot), "log": saved["log"]}  # fmt: skip
    first = runs[str(args.weights[0])]
    for run in runs.values():
        for which in ("clips", "pilot_clips"):
            mean, base = run[which]["mean"], first[which]["mean"]
            run[f"{which}_vs_first"] = {k: mean[k] / base[k] for k in mean}
    for w, step in equal.items():
        mine = done[("step", w)][0]
        theirs = done[("step", args.weights[0], step)][0]
        base = theirs["mean"]
        runs[str(w)]["equal_steps"] = {
            "step": step,
            "clips": mine,
            "first_clips": theirs,
            "clips_vs_first": {k: mine["mean"][k] / base[k] for k in base},
        }
    result = {
        "benchmark": "temporal_weight: warping error on held-out clips at equal CPU time "
        "(issue 25)",
        "objective": args.objective,
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"1 thread per run, runs in parallel; load average at start {load[0]:.1f}",
        "extractor": "random_multiscale" if args.objective == "fast_style" else "offline vgg19",
        "train_photos": list(TRAIN_PHOTOS),
        "test_photos": list(TEST_PHOTOS),
        "pilot_photos": list(PILOT_PHOTOS),
        "style": "skimage.data.gravel",
        "image_size": args.size,
        "clip_size": args.clip_size,
        "frames_per_clip": args.frames,
        "cpu_minutes_each": args.cpu_minutes,
        **temporal_options(args),
        "seed": args.seed,
        "batch_size": args.batch_size,
        "input_warping_error": {
            n: warping_error(list(v), list(v))["warping_error"] for n, v in videos.items()
        },  # fmt: skip
        "targets": {"warping_error_ratio_max": 0.7, "style_content_ratio_within": 0.1},
        "runs": runs,
    }
    summary = {w: {"steps": r["train_steps"], **r["clips"]["mean"],
                   "test": r["clips_vs_first"], "pilot": r["pilot_clips_vs_first"],
                   "equal_steps": {k: v for k, v in r.get("equal_steps", {}).items()
                                   if k in ("step", "clips_vs_first")}}
               for w, r in runs.items()}  # fmt: skip
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    if args.strip:
        from gst_core.images import make_grid, save_image

        name = next(iter(videos))
        picks = [0, 1, 2]  # consecutive frames: flicker is frame-to-frame change
        rows = [videos[name][picks]] + [
            outputs[w][name][picks] for w in (args.weights[0], args.weights[-1])
        ]
        images = torch.from_numpy(np.concatenate(rows)).permute(0, 3, 1, 2).float() / 255
        # Columns: input | without | with; rows: three consecutive frames.
        order = [r * len(picks) + i for i in range(len(picks)) for r in range(len(rows))]
        save_image(make_grid(images[order], nrow=len(rows), padding=2), args.strip)
        small = Image.open(args.strip).convert("RGB").quantize(256)  # a small file for docs/
        small.save(args.strip, optimize=True)


if __name__ == "__main__":
    main()
