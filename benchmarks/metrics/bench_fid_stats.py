"""FID statistics from features (mean and covariance): gst's FeatureStats vs numpy, interleaved.

pytorch-fid computes its statistics as ``np.mean(X, 0)`` and ``np.cov(X, rowvar=False)``
of the float32 activations its network returns; gst's accumulator must be at least as fast.
The features here are 2048 = 32x64 grey pixels of random crops of scikit-image's photos
(float32, correlated as real features are; the timing depends on the shape only). Each
round times them in the order gst, numpy, numpy, gst (one thread each); the result is the
ratio per round (numpy time / gst time, > 1: gst faster) with its median and min-max, so
load from other jobs on a shared machine hits both alike. ``X.T @ X`` in torch (a general
GEMM) and numpy's bare syrk of the uncentred matrix are timed once per round, for scale.

    python benchmarks/metrics/bench_fid_stats.py   # sets one BLAS/OpenMP thread itself

writes benchmarks/results/metrics_fid_stats.json.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy/torch load their BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage import color, data  # noqa: E402

from gst_core.metrics import FeatureStats  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "hubble_deep_field")


def photo_features(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 2048)`` float32: random 32x64 grey crops of real photos, in [0, 1]."""
    rng = np.random.default_rng(seed)
    greys = []
    for name in PHOTOS:
        image = getattr(data, name)()
        grey = color.rgb2gray(image) if image.ndim == 3 else image / 255.0
        greys.append(grey.astype(np.float32))
    out = np.empty((n, 32 * 64), dtype=np.float32)
    for i in range(n):
        grey = greys[i % len(greys)]
        y = rng.integers(0, grey.shape[0] - 32)
        x = rng.integers(0, grey.shape[1] - 64)
        out[i] = grey[y : y + 32, x : x + 64].ravel()
    return out


def timed(f, cpu: list[float] | None = None) -> float:
    """Wall seconds of ``f()``; its CPU seconds (this process, one thread) go to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    f()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def run(n: int, rounds: int) -> dict:
    x = photo_features(n)
    methods = {
        "gst": lambda: FeatureStats().update(x).covariance(),
        "numpy_cov": lambda: (np.mean(x, axis=0), np.cov(x, rowvar=False)),
    }
    context = {
        "torch_gemm_xtx": lambda: (lambda t: t.T @ t)(torch.from_numpy(x).double()),
        "numpy_syrk_xtx_uncentred": lambda: (lambda a: np.dot(a.T, a))(x.astype(np.float64)),
    }
    for f in methods.values():
        f()  # warm-up: BLAS buffers, first-touch of the allocator's pages
    times: dict[str, list[float]] = {k: [] for k in (*methods, *context)}
    ratios, cpu_ratios = [], []
    cpu: dict[str, list[float]] = {"gst": [], "numpy_cov": []}
    for _ in range(rounds):
        # gst, numpy, numpy, gst: a call's place in the round (which mattered by up to 1.5x
        # on the loaded machine, whoever went first) weighs on both sides alike.
        spent = {"gst": 0.0, "numpy_cov": 0.0}
        for name in ("gst", "numpy_cov", "numpy_cov", "gst"):
            t = timed(methods[name], cpu[name])
            times[name].append(t)
            spent[name] += t
        ratios.append(spent["numpy_cov"] / spent["gst"])
        cpu_ratios.append(sum(cpu["numpy_cov"][-2:]) / sum(cpu["gst"][-2:]))
        for name, f in context.items():
            times[name].append(timed(f))
    ours, (ref_mean, ref_cov) = FeatureStats().update(x), methods["numpy_cov"]()
    rel = float(np.abs(ours.covariance().numpy() - ref_cov).max() / np.abs(ref_cov).max())
    return {
        "n": n,
        "dim": x.shape[1],
        "input_dtype": str(x.dtype),
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "median_seconds": {k: round(statistics.median(v), 3) for k, v in times.items()},
        "speed_vs_numpy_cov_per_round": [round(v, 3) for v in ratios],
        "speed_vs_numpy_cov_median": round(statistics.median(ratios), 3),
        "speed_vs_numpy_cov_min_max": [round(min(ratios), 3), round(max(ratios), 3)],
        # CPU time is disturbed less by other jobs than the wall clock (not at all by waiting).
        "cpu_seconds": {k: [round(t, 3) for t in v] for k, v in cpu.items()},
        "cpu_speed_vs_numpy_cov_per_round": [round(v, 3) for v in cpu_ratios],
        "cpu_speed_vs_numpy_cov_median": round(statistics.median(cpu_ratios), 3),
        "cpu_speed_vs_numpy_cov_min_max": [round(min(cpu_ratios), 3), round(max(cpu_ratios), 3)],
        "covariance_max_relative_difference_vs_numpy_cov": rel,
        # np.mean of float32 features is float32 (pytorch-fid's mu); gst's is float64.
        "mean_max_abs_difference_vs_float32_np_mean": float(
            np.abs(ours.mean.numpy() - ref_mean).max()
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/metrics_fid_stats.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    runs = []
    for n in args.n:
        runs.append(run(n, args.rounds))
        last = runs[-1]
        print(n, last["speed_vs_numpy_cov_per_round"], last["cpu_speed_vs_numpy_cov_per_round"])
    result = {
        "benchmark": "fid_statistics",
        "baseline": "np.mean(X, 0) + np.cov(X, rowvar=False), as pytorch-fid",
        "features": "random 32x64 grey crops of scikit-image photos, float32 (n, 2048)",
        "runs": runs,
        "conditions": {
            "threads": 1,
            "rounds": args.rounds,
            "load_average_1_5_15_before": [round(v, 2) for v in load_before],
            "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
            "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
