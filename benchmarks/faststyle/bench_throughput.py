"""Stylisation throughput: gst's transformer_net vs pytorch/examples' TransformerNet (eval mode).

Both networks have the same 1,679,235 parameters; the runs alternate (gst, reference,
gst, ...) in one process so machine load affects both alike. gst's time includes
what `gst stylize --model` does per batch (apply_image_generator: [0,1]→[-1,1], pad
to a multiple of 4, forward, crop, back to [0,1]); the reference's is its forward on
0..255 input. Median of --repeats timed runs after one warm-up, images per second.

    .venv/bin/python benchmarks/faststyle/bench_throughput.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from reference_transformer_net import TransformerNet as Reference

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.kinds import generators

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks/results/fast_style_throughput.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ours = generators.build("transformer_net").eval()
    ref = Reference().eval()
    assert sum(p.numel() for p in ref.parameters()) == sum(p.numel() for p in ours.parameters())
    rows = {}
    for size in (256, 512):
        x = torch.rand(args.batch, 3, size, size)
        runs = {
            "gst": lambda x=x: apply_image_generator(ours, x),
            "pytorch_examples": lambda x=x: ref(x * 255),
        }
        times = {k: [] for k in runs}
        with torch.no_grad():
            for f in runs.values():
                f()  # warm-up
            for _ in range(args.repeats):
                for k, f in runs.items():
                    t = time.perf_counter()
                    f()
                    times[k].append(time.perf_counter() - t)
        rows[f"{size}x{size}"] = {
            k: round(args.batch / statistics.median(v), 3) for k, v in times.items()
        }
        print(size, rows[f"{size}x{size}"], flush=True)
    result = {
        "benchmark": "images per second, transformer_net vs pytorch/examples TransformerNet",
        "machine": f"{platform.machine()}, torch {torch.__version__}, {args.threads} threads",
        "batch": args.batch,
        "repeats": args.repeats,
        "images_per_second": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
