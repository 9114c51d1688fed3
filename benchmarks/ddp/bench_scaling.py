"""Data-parallel scaling: images per second per process with 1 and 2 processes under torchrun.

Each run is the real user path, ``torchrun --standalone --nproc_per_node N -m gst_core.cli
train gan``, on the same config with a fixed per-process batch (weak scaling: the global batch
grows with N, as when one adds GPUs). Time is rank 0's wall clock between two logged steps
(``metrics.jsonl``), so start-up (imports, rendezvous, building) is left out. Rounds alternate
1 and 2 processes and the medians are reported.

On the 2-core CPU, two processes of one thread each use both cores, and each step adds a gloo
all-reduce of both networks' gradients; the point here is that it works, not speed. Run it on a
machine with several GPUs for the GPU scaling (``--device cuda``: NCCL).

    python benchmarks/ddp/bench_scaling.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

CONFIG = """
[generator]
name = "dcgan"
latent_dim = 64
image_size = 32
width = 16
norm = "none"

[discriminator]
name = "dcgan"
image_size = 32
width = 16
batch_norm = false

[loss]
name = "hinge"

[data]
name = "shapes"
image_size = 32
num_classes = 10
per_class = 100

[train]
steps = {steps}
batch_size = {batch}
log_every = {log_every}
sample_every = 0
checkpoint_every = 0
progress = false
device = "{device}"
"""


def run(nproc: int, per_process: int, steps: int, log_every: int, device: str, folder: Path):
    """Images/s of the whole run and per process, between the first and last logged step."""
    config = folder / f"run{nproc}.toml"
    batch = per_process * nproc
    config.write_text(CONFIG.format(steps=steps, batch=batch, log_every=log_every, device=device))
    run_dir = folder / f"run{nproc}"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={nproc}", "-m", "gst_core.cli", "train", "gan",
        "--config", str(config), "--run-dir", str(run_dir), "--threads", "1",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    first, last = lines[0], lines[-1]
    images = (last["step"] - first["step"]) * batch
    total = images / (last["seconds"] - first["seconds"])
    return total, total / nproc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-process-batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parents[1] / "results" / "ddp_scaling_cpu.json"
    )
    args = parser.parse_args()
    per_process: dict[int, list[float]] = {1: [], 2: []}
    totals: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for nproc in (1, 2) if r % 2 == 0 else (2, 1):
                folder = Path(tmp) / f"round{r}"
                folder.mkdir(exist_ok=True)
                total, each = run(
                    nproc, args.per_process_batch, args.steps, args.log_every, args.device, folder
                )
                totals[nproc].append(round(total, 1))
                per_process[nproc].append(round(each, 1))
                print(f"round {r}: {nproc} process(es): {total:.0f} img/s, {each:.0f} per process")
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs), "
        f"load average {os.getloadavg()[0]:.1f} at the end",
        "torch": torch.__version__,
        "device": args.device,
        "backend": "gloo" if args.device == "cpu" else "nccl",
        "threads_per_process": 1,
        "networks": "dcgan G (norm none) and D (no BatchNorm), 32x32, width 16",
        "per_process_batch": args.per_process_batch,
        "timed_steps": args.steps - args.log_every,
        "images_per_second_total": {str(k): v for k, v in totals.items()},
        "images_per_second_per_process": {str(k): v for k, v in per_process.items()},
        "median_per_process": {str(k): statistics.median(v) for k, v in per_process.items()},
        "median_total": {str(k): statistics.median(v) for k, v in totals.items()},
    }
    result["per_process_ratio_2_vs_1"] = round(
        result["median_per_process"]["2"] / result["median_per_process"]["1"], 3
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
