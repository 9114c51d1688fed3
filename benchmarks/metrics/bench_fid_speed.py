"""FID at D = 2048: gst (Cholesky + symmetric eigenvalues) vs scipy.linalg.sqrtm, in one run.

The baseline is pytorch-fid 0.3.0's own ``calculate_frechet_distance``
(``scipy.linalg.sqrtm`` of Σ₁Σ₂), read from its installed source with ``ast``
and never imported (the package imports torchvision); torchmetrics' float64
``_compute_fid`` (``torch.linalg.eigvals`` of Σ₁Σ₂) is timed beside it. Calls
are interleaved so that load from other jobs on the shared machine hits all
three alike; the ratios of the medians and of the fastest calls are the
result (on a machine shared with other jobs the fastest call is the least
disturbed). Agreement is reported for a full-rank pair (N = 5000) and a
rank-deficient one (N = 100), where the exact answer is also known (a
nuclear norm of an N×N matrix).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        python benchmarks/metrics/bench_fid_speed.py --threads 1

writes benchmarks/results/metrics_fid_speed.json. One thread each is the fair and the
stable setting on a shared 2-core machine: at load 10, two threads spin-waiting on
each other made every method 5-20x slower and noisier (metrics_fid_speed_2threads.json).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import torch
from scipy import linalg

from gst_core.metrics import frechet_distance_from_stats


def pytorch_fid_function():
    spec = importlib.util.find_spec("pytorch_fid")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps pytorch-fid==0.3.0 (make setup does)")
    path = Path(next(iter(spec.submodule_search_locations))) / "fid_score.py"
    tree = ast.parse(path.read_text())
    body = [n for n in tree.body if getattr(n, "name", "") == "calculate_frechet_distance"]
    namespace = {"np": np, "linalg": linalg}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    return namespace["calculate_frechet_distance"]


def feature_pair(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlated, non-negative, heavy-ish features, like pooled ReLU activations."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    a = np.maximum(rng.normal(size=(n, d)) @ mix, 0)
    b = np.maximum(rng.normal(size=(n, d)) @ (mix + 0.1 * rng.normal(size=(d, d)) / np.sqrt(d)), 0)
    return a, b


def stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), np.cov(x, rowvar=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/metrics_fid_speed.json")
    )
    args = parser.parse_args()
    from torchmetrics.image.fid import _compute_fid

    if args.threads:
        torch.set_num_threads(args.threads)

    reference = pytorch_fid_function()
    d = args.dim
    a, b = feature_pair(5000, d, seed=0)
    (m1, s1), (m2, s2) = stats(a), stats(b)
    t1, t2, tm1, tm2 = (torch.from_numpy(x) for x in (m1, s1, m2, s2))

    def ours() -> float:
        return frechet_distance_from_stats(t1, t2, tm1, tm2)

    def sqrtm() -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # its sqrtm(disp=False)
            return float(reference(m1, s1, m2, s2))

    def eigvals() -> float:
        return float(_compute_fid(t1, t2, tm1, tm2))

    times: dict[str, list[float]] = {
        "gst": [],
        "pytorch_fid_sqrtm": [],
        "torchmetrics_eigvals": [],
    }
    values: dict[str, float] = {}
    for _ in range(args.rounds):
        for _ in range(2):  # ours is cheap: two calls a round, so the fastest is less disturbed
            start = time.perf_counter()
            values["gst"] = ours()
            times["gst"].append(time.perf_counter() - start)
        for name, fn in (
            ("pytorch_fid_sqrtm", sqrtm),
            ("torchmetrics_eigvals", eigvals),
        ):
            start = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - start)
    median = {k: statistics.median(v) for k, v in times.items()}
    fastest = {k: min(v) for k, v in times.items()}

    # Rank-deficient: N = 100 < D.
    ra, rb = feature_pair(100, d, seed=1)
    (n1, c1), (n2, c2) = stats(ra), stats(rb)
    ours_rd = frechet_distance_from_stats(n1, c1, n2, c2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref_rd = float(reference(n1, c1, n2, c2))
    ca, cb = ra - n1, rb - n2
    nuclear = np.linalg.svd(ca @ cb.T / 99, compute_uv=False).sum()
    diff = n1 - n2
    exact_rd = float(diff @ diff + np.trace(c1) + np.trace(c2) - 2 * nuclear)

    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        "(shared with other jobs)",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch_threads": torch.get_num_threads(),
        "blas_threads_env": {
            k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "dim": d,
        "rounds": args.rounds,
        "seconds_median": {k: round(v, 3) for k, v in median.items()},
        "seconds_fastest": {k: round(v, 3) for k, v in fastest.items()},
        "seconds_all": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "speedup_vs_sqrtm_median": round(median["pytorch_fid_sqrtm"] / median["gst"], 1),
        "speedup_vs_sqrtm_fastest": round(fastest["pytorch_fid_sqrtm"] / fastest["gst"], 1),
        "speedup_vs_torchmetrics_eigvals_median": round(
            median["torchmetrics_eigvals"] / median["gst"], 1
        ),
        "full_rank_n5000": {
            "fid_gst": values["gst"],
            "fid_pytorch_fid": values["pytorch_fid_sqrtm"],
            "fid_torchmetrics_float64": values["torchmetrics_eigvals"],
            "rel_diff_vs_pytorch_fid": abs(values["gst"] - values["pytorch_fid_sqrtm"])
            / values["pytorch_fid_sqrtm"],
        },
        "rank_deficient_n100": {
            "fid_gst": ours_rd,
            "fid_pytorch_fid": ref_rd,
            "fid_exact_nuclear_norm": exact_rd,
            "rel_diff_vs_pytorch_fid": abs(ours_rd - ref_rd) / ref_rd,
            "rel_error_gst": abs(ours_rd - exact_rd) / exact_rd,
            "rel_error_pytorch_fid": abs(ref_rd - exact_rd) / exact_rd,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
