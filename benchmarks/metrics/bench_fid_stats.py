"""FID statistics from features (mean and covariance): gst's FeatureStats vs numpy, in one run.

pytorch-fid computes its statistics as ``np.mean(X, 0)`` and ``np.cov(X, rowvar=False)``;
gst's accumulator must be at least as fast. Calls alternate, one thread each, and the
ratio of the medians is the result (the other jobs of a shared machine hit both alike).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/metrics/bench_fid_stats.py

writes benchmarks/results/metrics_fid_stats.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from gst_core.metrics import FeatureStats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/metrics_fid_stats.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = np.maximum(np.random.default_rng(0).normal(size=(args.n, args.dim)), 0)

    def gst() -> FeatureStats:
        return FeatureStats().update(x)

    def numpy_cov() -> tuple[np.ndarray, np.ndarray]:
        return np.mean(x, axis=0), np.cov(x, rowvar=False)

    times: dict[str, list[float]] = {"gst": [], "numpy": []}
    for _ in range(args.rounds):
        for name, f in (("gst", gst), ("numpy", numpy_cov)):
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    ours, ref = gst(), numpy_cov()
    error = float(np.abs(ours.covariance().numpy() - ref[1]).max())
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "benchmark": "fid_statistics",
        "n": args.n,
        "dim": args.dim,
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "speed_vs_numpy": round(medians["numpy"] / medians["gst"], 3),
        "max_abs_difference": error,
        "conditions": {
            "threads": 1,
            "load_average": os.getloadavg()[0],
            "machine": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
