"""What the checkpoint checks cost: the CRC pass on load, the NaN/inf check on save and load,
and the per-step NaN/inf check of the updated weights, beside torch's own save/load.

    python benchmarks/reliability/bench_checkpoint_checks.py [--mb 400] [--json out.json]

Best of ``--repeat`` runs, one thread (the test machine is a shared 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

import torch

from gst_core.finite import nonfinite, nonfinite_in_state


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(mb: int, repeat: int) -> dict:
    # A checkpoint's shape: many 1 MB tensors (weights, EMA, two Adam moments).
    tensors = {f"w{i}": torch.randn(512, 512) for i in range(mb)}
    state = {"networks": {"g": tensors}}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "last.pt")
        torch.save(state, path)
        return {
            "megabytes": mb,
            "torch_save_s": best(lambda: torch.save(state, path), repeat),
            "torch_load_s": best(lambda: torch.load(path, weights_only=True), repeat),
            "crc_check_s": best(lambda: zipfile.ZipFile(path).testzip(), repeat),
            "finite_check_s": best(lambda: nonfinite_in_state(state), repeat),
            "finite_check_exact_isfinite_s": best(
                lambda: [bool(torch.isfinite(t).all()) for t in tensors.values()], repeat
            ),
            "per_step_check_s": best(lambda: nonfinite(enumerate(tensors.values())), repeat),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, nargs="+", default=[40, 400])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    for mb in args.mb:
        results.append(measure(mb, args.repeat))
        print(json.dumps(results[-1]))
    if args.json:
        environment = {
            "torch": torch.__version__,
            "threads": 1,
            "loadavg": os.getloadavg(),
            "cpu_count": os.cpu_count(),
        }
        text = json.dumps({"environment": environment, "results": results}, indent=2)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
