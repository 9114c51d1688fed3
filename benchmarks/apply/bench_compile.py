"""Inference at 256², one thread: eager vs ``--compile`` (torch.compile) vs channels_last.

For resnet_9blocks (CycleGAN's generator) and transformer_net (fast style), built with
seeded weights in eval mode, on a real photo (scikit-image's astronaut at 256²), batch 1,
under ``torch.inference_mode`` as ``gst translate`` / ``gst stylize --model`` run them.
The compiled network goes through :func:`gst_core.apply.compiled.compile_generator`, the
``--compile`` path; its one-off compile time is recorded apart. Each round times every
variant once, in a rotated order (load from other jobs on a shared machine hits all alike);
the result is the ratio eager / variant per round (> 1: the variant is faster) with its
median and min-max, and the largest difference from the eager output.

    python benchmarks/apply/bench_compile.py --rounds 5

writes benchmarks/results/apply_compile_cpu.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from gst_core.apply.compiled import compile_generator, cpu_compiler  # noqa: E402
from gst_core.kinds import registry  # noqa: E402

NETWORKS = {name: {"name": name} for name in ("resnet_9blocks", "transformer_net")}


def photo(side: int) -> torch.Tensor:
    image = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.asarray(image)).permute(2, 0, 1)[None] / 127.5 - 1


def timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def bench(spec: dict, x: torch.Tensor, rounds: int) -> dict:
    torch.manual_seed(0)
    eager = registry("generator").build(dict(spec)).eval()
    last = registry("generator").build(dict(spec)).eval().to(memory_format=torch.channels_last)
    last.load_state_dict(eager.state_dict())
    compiled = registry("generator").build(dict(spec)).eval()
    compiled.load_state_dict(eager.state_dict())
    compile_generator(compiled)
    x_last = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        reference = eager(x)
        compile_seconds = timed(lambda: compiled(x))  # compiles here (and runs once)
        variants = {
            "eager": lambda: eager(x),
            "channels_last": lambda: last(x_last),
            "compiled": lambda: compiled(x),
        }
        differences = {k: float((f() - reference).abs().max()) for k, f in variants.items()}
        times: dict[str, list[float]] = {k: [] for k in variants}
        names = list(variants)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name].append(timed(variants[name]))
    out = {"compile_seconds_first_call": round(compile_seconds, 1), "variants": {}}
    for name in ("channels_last", "compiled"):
        ratios = [e / v for e, v in zip(times["eager"], times[name], strict=True)]
        out["variants"][name] = {
            "speed_vs_eager_per_round": [round(r, 3) for r in ratios],
            "speed_vs_eager_median": round(statistics.median(ratios), 3),
            "speed_vs_eager_min_max": [round(min(ratios), 3), round(max(ratios), 3)],
            "max_abs_difference_vs_eager": differences[name],
        }
    out["seconds"] = {k: [round(t, 3) for t in v] for k, v in times.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results/apply_compile_cpu.json")
    )
    args = parser.parse_args()
    if cpu_compiler() is None:
        raise SystemExit("torch.compile on a CPU needs a C++ compiler (g++)")
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    x = photo(args.size)
    results = {}
    for name in args.networks:
        results[name] = bench(NETWORKS[name], x, args.rounds)
        print(name, json.dumps(results[name]["variants"]), flush=True)
    result = {
        "benchmark": "apply_compile",
        "input": f"scikit-image astronaut at {args.size}², batch 1, inference_mode, eval mode",
        "networks": results,
        "conditions": {
            "threads": 1,
            "rounds": args.rounds,
            "load_average_1_5_15_before": [round(v, 2) for v in load_before],
            "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU "
            "cores shared with other jobs",
            "torch": torch.__version__,
            "compiler": cpu_compiler(),
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
