"""gst against plain-torch references of each method, side by side in one process, one thread.

The references (reference_nets.py, reference_steps.py, ../faststyle/reference_transformer_net.py,
../nst/tutorial_reference.py, pytorch-fid's Fréchet distance) are written from the papers' and
the reference repositories' descriptions; gst runs through its public API (gst_side.py). First a
check that both compute the same thing (weights copied across: same outputs, same first-step
losses), then the interleaved timings (interleave.py): ratio = reference time / gst time,
> 1 means gst is faster, median and min-max over rounds. ``--whole-process`` adds ``gst train
pix2pix`` and ``gst translate`` as fresh processes against reference_scripts/ (whole_process.py).

    python benchmarks/speed/bench_side_by_side.py --quick --whole-process

writes benchmarks/results/side_by_side_cpu.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch loads its OpenMP/BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
for sub in ("speed", "faststyle", "nst", "metrics", "apply", "startup"):
    sys.path.insert(0, str(HERE.parent / sub))

import gst_side  # noqa: E402
import reference_nets as ref  # noqa: E402
from bench_compile import photo  # noqa: E402
from interleave import interleave, line  # noqa: E402
from reference_steps import CycleGANStep, Pix2PixStep  # noqa: E402
from reference_transformer_net import TransformerNet  # noqa: E402

from gst_core.apply.apply_generator import apply_image_generator  # noqa: E402
from gst_core.apply.compiled import compile_generator, cpu_compiler  # noqa: E402

REPO = HERE.parents[1]


def photo_pair(side: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """A = the grey photo, B = the photo (scikit-image's astronaut), in [-1, 1]."""
    b = photo(side)
    grey = (b * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return grey.expand(-1, 3, -1, -1).contiguous(), b


def max_diff(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((x - y).abs().max())


# -- training steps --------------------------------------------------------------


def pix2pix(rounds: int) -> dict:
    t = gst_side.trainer("pix2pix")
    g, d = t.networks["generator"], t.networks["discriminator"]
    rg, rd = ref.unet_256(), ref.patchgan_70(6)
    ref.copy_weights(g, rg)
    ref.copy_weights(d, rd)
    a, b = photo_pair()
    check = {}
    with torch.no_grad():
        g.eval(), rg.eval(), d.eval(), rd.eval()
        check["generator_eval_max_abs_diff"] = max_diff(g(a), rg(a))
        check["discriminator_eval_max_abs_diff"] = max_diff(
            d(torch.cat([a, b], 1)), rd(torch.cat([a, b], 1))
        )
    for net in (g, d, rg, rd):
        net.train()
    reference = Pix2PixStep(rg, rd)
    torch.manual_seed(1)  # the same dropout masks in both first steps
    loss_d, loss_g = reference(a, b)
    torch.manual_seed(1)
    metrics = gst_side.step(t, a, b)
    check["first_step_loss_d"] = [float(loss_d), float(metrics["loss_d"])]
    check["first_step_loss_g"] = [float(loss_g), float(metrics["loss_g"])]
    # The checked first step was the warm-up of both.
    timing = interleave(lambda: reference(a, b), lambda: gst_side.step(t, a, b), rounds, warmup=0)
    print(line("pix2pix step (unet_256+PatchGAN)", timing), flush=True)
    return {"check": check, **timing}


def cyclegan(rounds: int) -> dict:
    t = gst_side.trainer("cyclegan")
    nets = t.networks
    mine = {"g_ab": ref.resnet_9blocks(), "g_ba": ref.resnet_9blocks()}
    mine.update({k: ref.patchgan_70(3, norm="instance") for k in ("d_a", "d_b")})
    for name, net in mine.items():
        ref.copy_weights(nets[name], net)
    a, b = photo_pair()
    check = {}
    with torch.no_grad():
        check["generator_max_abs_diff"] = max_diff(nets["g_ab"](a), mine["g_ab"](a))
        check["discriminator_max_abs_diff"] = max_diff(nets["d_a"](a), mine["d_a"](a))
    reference = CycleGANStep(mine["g_ab"], mine["g_ba"], mine["d_a"], mine["d_b"])
    loss_g, loss_d = reference(a, b)  # first step: the pools only store, no randomness
    metrics = gst_side.step(t, a, b)
    check["first_step_loss_g"] = [float(loss_g), float(metrics["loss_g"])]
    check["first_step_loss_d"] = [float(loss_d), float(metrics["loss_d_a"] + metrics["loss_d_b"])]
    # The checked first step was the warm-up of both.
    timing = interleave(lambda: reference(a, b), lambda: gst_side.step(t, a, b), rounds, warmup=0)
    print(line("CycleGAN step (2x resnet_9blocks+2x D)", timing), flush=True)
    return {"check": check, **timing}


# -- inference ---------------------------------------------------------------------


def inference(name: str, side: int, rounds: int, compiled: bool) -> dict:
    net = gst_side.generator(name)
    if name == "transformer_net":
        mine = TransformerNet().eval()

        def run_reference(x01):  # pytorch/examples' stylize: 0..255 in, clamped 0..255 out
            with torch.no_grad():
                return mine(x01 * 255).clamp(0, 255) / 255
    else:
        mine = ref.resnet_9blocks().eval()

        def run_reference(x01):  # junyanz's test: normalise to [-1, 1], forward, back
            with torch.no_grad():
                return (mine(x01 * 2 - 1) + 1) / 2

    ref.copy_weights(net, mine)
    x01 = (photo(side) + 1) / 2
    out = {"check_max_abs_diff_0_1": max_diff(run_reference(x01), apply_image_generator(net, x01))}
    out["eager"] = interleave(
        lambda: run_reference(x01), lambda: apply_image_generator(net, x01), rounds
    )
    print(line(f"{name} {side}² inference", out["eager"]), flush=True)
    if compiled:
        fast = gst_side.generator(name)
        fast.load_state_dict(net.state_dict())
        compile_generator(fast)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = apply_image_generator(fast, x01)
        out["compile_seconds"] = round(time.perf_counter() - start, 1)
        out["compiled_check_max_abs_diff_0_1"] = max_diff(result, apply_image_generator(net, x01))
        out["compiled"] = interleave(
            lambda: run_reference(x01), lambda: apply_image_generator(fast, x01), rounds
        )
        print(line(f"{name} {side}² --compile", out["compiled"]), flush=True)
    return out


# -- Gatys -------------------------------------------------------------------------


def gatys(side: int, evals: int, rounds: int) -> dict:
    """Seconds per L-BFGS evaluation, the PyTorch tutorial's structure vs gst's StyleTransfer
    (bench_stylize.py's two runners, random VGG19 weights, the same layers and weights)."""
    import statistics

    import bench_stylize as nst

    vgg, features = nst.vgg19(), nst.tutorial_features()
    per: dict[str, list[float]] = {"reference": [], "gst": []}
    ratios = []
    for r in range(rounds):
        runs = (("reference", nst.run_reference, features), ("gst", nst.run_gst, vgg))
        got = {}
        for which, run, model in runs if r % 2 == 0 else runs[::-1]:
            got[which] = statistics.median(run(model, side, evals))
            per[which].append(got[which])
        ratios.append(got["reference"] / got["gst"])
    from interleave import summary

    out = {
        "ratio": summary(ratios),
        "seconds_median": {k: round(statistics.median(v), 3) for k, v in per.items()},
        "seconds": {k: [round(t, 3) for t in v] for k, v in per.items()},
        "rounds": rounds,
        "evals_per_run": evals,
        "size": side,
    }
    print(line(f"Gatys {side}² s/L-BFGS evaluation", out), flush=True)
    return out


# -- FID end to end ---------------------------------------------------------------------


def fid(count: int, rounds: int) -> dict:
    """Two sets of ``count`` 128² crops of scikit-image photos; FID end to end (Inception
    features at 299², statistics, distance). The reference is pytorch-fid 0.3.0's pipeline:
    ``get_activations`` (resize to 299 bilinear, 2x-1, forward under no_grad, ``.numpy()``),
    ``np.mean``/``np.cov``, its ``calculate_frechet_distance`` (scipy sqrtm), read from its
    installed source. Its InceptionV3 class imports torchvision, which the CPU torch here cannot
    have, so both run gst's module of the same architecture (pytorch-fid's layer names and
    shapes) with random weights: the network is shared, the pipeline around it is not."""
    from bench_fid_speed import pytorch_fid_function
    from bench_fid_stats import PHOTOS
    from skimage import data

    from gst_core.kinds import feature_extractors
    from gst_core.metrics import frechet_distance
    from gst_core.metrics.extract import images_features

    rng = np.random.default_rng(0)
    crops = []
    for i in range(2 * count):
        image = getattr(data, PHOTOS[i % len(PHOTOS)])()
        image = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
        y, x = rng.integers(0, image.shape[0] - 128), rng.integers(0, image.shape[1] - 128)
        crops.append(torch.from_numpy(image[y : y + 128, x : x + 128].copy()).permute(2, 0, 1))
    images = torch.stack(crops).float() / 255
    real, fake = images[:count], images[count:]
    torch.manual_seed(0)
    extractor = feature_extractors.build("inception", weights="random").eval()
    distance = pytorch_fid_function()
    batch = 50

    def reference() -> float:
        stats = []
        for part in (real, fake):
            acts = []
            for chunk in part.split(batch):
                with torch.no_grad():  # the module resizes to 299² and maps to [-1, 1] itself
                    acts.append(extractor(chunk)["pool"].cpu().numpy())
            acts = np.concatenate(acts)
            stats += [np.mean(acts, axis=0), np.cov(acts, rowvar=False)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(distance(*stats))

    def gst() -> float:
        feats = [images_features(p.split(batch), extractor, progress=False) for p in (real, fake)]
        return frechet_distance(*feats)

    # No warm-up and no separate check call: scipy's sqrtm of a 2048² matrix alone takes
    # 10-130 s here, so the values of the timed calls are the check.
    values: dict[str, float] = {}
    out = interleave(
        lambda: values.__setitem__("reference", reference()),
        lambda: values.__setitem__("gst", gst()),
        rounds,
        warmup=0,
    )
    out.update(check_fid=[values["reference"], values["gst"]], images_per_set=count, crop=128)
    print(line(f"FID end to end, 2x{count} crops", out), flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds (the committed run)")
    p.add_argument("--compile", action="store_true", help="add gst's --compile inference column")
    p.add_argument("--whole-process", action="store_true", help="gst train/translate processes")
    p.add_argument("--only", nargs="*", help="run only these parts")
    p.add_argument("--profile", action="store_true", help="top ops of one pix2pix step each")
    p.add_argument("--json", type=Path, default=REPO / "benchmarks/results/side_by_side_cpu.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    rounds = 3 if args.quick else 6
    load_before = os.getloadavg()
    # Cheapest and most asked-for first; the CycleGAN step (the slowest) last but the profile.
    parts = {"pix2pix_step": lambda: pix2pix(rounds)}
    if args.whole_process:
        from whole_process import whole_process

        parts["whole_process"] = lambda: whole_process(2 if args.quick else 3)
    parts["fid_end_to_end"] = lambda: fid(12 if args.quick else 25, 2 if args.quick else 3)
    parts["gatys_256"] = lambda: gatys(256, 4 if args.quick else 6, 2 if args.quick else 3)
    for side in (256, 512):
        for name in ("transformer_net", "resnet_9blocks"):
            parts[f"{name}_{side}"] = lambda n=name, s=side: inference(
                n, s, rounds + 2, args.compile
            )
    parts["cyclegan_step"] = lambda: cyclegan(max(2, rounds - 1))
    if args.profile:
        from profile_ops import profile_pix2pix

        parts["profile_pix2pix_step"] = profile_pix2pix
    results: dict = {}
    conditions = {
        "threads": torch.get_num_threads(),
        "quick": args.quick,
        "load_average_1_5_15_before": [round(v, 2) for v in load_before],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU "
        "cores shared with other jobs",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "compiler": cpu_compiler(),
    }
    for name, run in parts.items():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        try:
            results[name] = run()
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name} failed: {exc}", flush=True)
        results[name]["part_wall_s"] = round(time.perf_counter() - start, 1)
        conditions["load_average_1_5_15_after"] = [round(v, 2) for v in os.getloadavg()]
        # Written after every part: a run cut short keeps what it measured.
        result = {
            "benchmark": "side_by_side",
            "ratio_meaning": "reference time / gst time per round (> 1: gst faster); "
            "median, min-max",
            "input": "scikit-image astronaut (grey | colour for the i2i steps), batch 1",
            "results": results,
            "conditions": conditions,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
