"""Tiled inference: peak memory and time by image size, and the cost of tiling at equal output.

Two parts, one torch thread throughout (the machine is shared; CPU time is what a run gets):

* ``memory``: every (network, megapixels, mode) in a child process of its own, so that its
  peak RSS (``resource.getrusage``) is its own: the photo (scikit-image's ``rocket``,
  upscaled to the size, 3:2) is made, then applied with ``apply_tiled`` as ``gst translate``
  does (uint8 in, uint8 out), automatic tiling under ``--max-memory`` or ``--tile 0``.
* ``overhead``: in one process, an untiled pass and an automatically tiled one (same budget)
  of the same photo, timed in CPU seconds, and their mean absolute difference (on 0..1).

    python benchmarks/apply/bench_tiling.py --scale 8 --out benchmarks/results/tiling_cpu.json

``--scale N`` divides every network's width by N (their activations per pixel and so the
memory they need shrink by about N, their work by about N²), and the default budget by N, so
that a CPU run fits in minutes; ``--scale 1`` is the reference networks.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

NETWORKS = {  # name → (generator spec at reference width, its width key, reference width)
    "resnet_9blocks": ({"name": "resnet_9blocks"}, "width", 64),
    "unet_256": ({"name": "unet_256"}, "width", 64),
    "transformer_net": ({"name": "transformer_net"}, "channels", 32),
}


def _network(name: str, scale: int):
    import torch

    from gst_core.kinds import generators

    spec, key, width = NETWORKS[name]
    torch.manual_seed(0)
    return generators.build({**spec, key: max(1, width // scale)}).eval()


def _photo(megapixels: float):
    import numpy as np
    from PIL import Image
    from skimage import data

    width = round(math.sqrt(megapixels * 1e6 * 1.5))
    height = round(width / 1.5)
    return np.asarray(Image.fromarray(data.rocket()).resize((width, height), Image.BICUBIC))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def child(name: str, scale: int, megapixels: float, mode: str, budget: int) -> dict:
    import torch

    from gst_core.apply.memory_budget import activation_bytes_per_pixel
    from gst_core.apply.tiling import Tiling, apply_tiled, choose_tile

    torch.set_num_threads(1)
    net = _network(name, scale)
    photo = _photo(megapixels)
    tiling = Tiling(tile=0 if mode == "untiled" else None, max_memory=budget)
    shape = (1, 3, *photo.shape[:2])
    tile = choose_tile(net, shape, torch.device("cpu"), tiling)
    per_pixel = activation_bytes_per_pixel(net, 3, torch.device("cpu"))
    before = _peak_rss()
    cpu, wall = time.process_time(), time.perf_counter()
    out = apply_tiled(net, photo, tiling)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert out.shape == photo.shape
    return {
        "network": name,
        "megapixels": round(photo.shape[0] * photo.shape[1] / 1e6, 2),
        "size": f"{photo.shape[1]}x{photo.shape[0]}",
        "mode": mode,
        "tile": tile,
        "peak_rss_gib": round(_peak_rss() / 2**30, 3),
        "rss_before_apply_gib": round(before / 2**30, 3),
        "cpu_seconds": round(cpu, 1),
        "wall_seconds": round(wall, 1),
        "estimated_activation_bytes_per_pixel": round(per_pixel, 1),
    }


def overhead(names: list[str], scale: int, megapixels: float, budget: int) -> list[dict]:
    import numpy as np
    import torch

    from gst_core.apply.tiling import Tiling, apply_tiled, choose_tile

    torch.set_num_threads(1)
    photo = _photo(megapixels)
    rows = []
    for name in names:
        net = _network(name, scale)
        times, outputs = {}, {}
        for mode, tiling in [("untiled", Tiling(tile=0)), ("tiled", Tiling(max_memory=budget))]:
            start = time.process_time()
            outputs[mode] = apply_tiled(net, photo, tiling).astype(np.float32) / 255
            times[mode] = time.process_time() - start
        rows.append(
            {
                "network": name,
                "megapixels": round(photo.shape[0] * photo.shape[1] / 1e6, 2),
                "tile": choose_tile(
                    net, (1, 3, *photo.shape[:2]), torch.device("cpu"), Tiling(max_memory=budget)
                ),
                "untiled_cpu_seconds": round(times["untiled"], 1),
                "tiled_cpu_seconds": round(times["tiled"], 1),
                "overhead": round(times["tiled"] / times["untiled"], 3),
                "mean_abs_diff": round(
                    float(np.abs(outputs["tiled"] - outputs["untiled"]).mean()), 5
                ),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=5, metavar=("NET", "SCALE", "MP", "MODE", "BUDGET"))
    parser.add_argument("--scale", type=int, default=8)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--sizes", default="1,6,24,48", help="megapixels")
    parser.add_argument("--untiled-up-to", type=float, default=24, help="megapixels")
    parser.add_argument("--overhead-mp", type=float, default=6.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        name, scale, mp, mode, budget = args.child
        print(json.dumps(child(name, int(scale), float(mp), mode, int(budget))))
        return
    names = args.networks.split(",")
    budget = (1 << 30) // args.scale
    result = {
        "conditions": {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores shared with other jobs",
            "threads": 1,
            "memory_part": f"networks at 1/{args.scale} of the reference width, budget "
            f"(--max-memory) {budget / 2**20:.0f} MiB = the 1 GiB CPU default / {args.scale}; "
            "peak RSS of a child process that builds the network, makes the photo (uint8) and "
            "applies it (uint8 out, as gst translate; no PNG encoding)",
            "overhead_part": f"the same networks and budget, {args.overhead_mp} MP, automatic "
            "tiling vs --tile 0, CPU seconds, one process, one run each",
        },
        "memory": [],
        "overhead": [],
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in names:
        for mp in [float(s) for s in args.sizes.split(",")]:
            for mode in ("auto", "untiled"):
                if mode == "untiled" and mp > args.untiled_up_to:
                    continue
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    name,
                    str(args.scale),
                    str(mp),
                    mode,
                    str(budget),
                ]
                done = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if done.returncode:
                    row = {
                        "network": name,
                        "megapixels": mp,
                        "mode": mode,
                        "failed": done.stderr.strip().splitlines()[-1:],
                    }
                else:
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                print(json.dumps(row), flush=True)
                result["memory"].append(row)
                if args.out:
                    args.out.write_text(json.dumps(result, indent=1) + "\n")
    result["overhead"] = overhead(names, args.scale, args.overhead_mp, budget)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
