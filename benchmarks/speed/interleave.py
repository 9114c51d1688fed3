"""Interleaved timing of a reference and gst in one process: the ratio per round, summarised.

Each round runs both once, the order alternating (reference first on even rounds), so load
from other jobs on the shared machine hits both alike; the result is reference time / gst
time per round (> 1: gst faster), its median and min-max, with the CPU seconds beside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(f: Callable[[], object]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - start, time.process_time() - cpu


def summary(ratios: list[float]) -> dict:
    return {
        "median": round(statistics.median(ratios), 3),
        "min": round(min(ratios), 3),
        "max": round(max(ratios), 3),
    }


def interleave(
    reference: Callable[[], object],
    gst: Callable[[], object],
    rounds: int,
    warmup: int = 1,
) -> dict:
    for _ in range(warmup):
        reference()
        gst()
    wall: dict[str, list[float]] = {"reference": [], "gst": []}
    cpu: dict[str, list[float]] = {"reference": [], "gst": []}
    for r in range(rounds):
        order = (("reference", reference), ("gst", gst))
        for name, f in order if r % 2 == 0 else order[::-1]:
            w, c = timed(f)
            wall[name].append(w)
            cpu[name].append(c)
    ratios = [a / b for a, b in zip(wall["reference"], wall["gst"], strict=True)]
    cpu_ratios = [a / b for a, b in zip(cpu["reference"], cpu["gst"], strict=True)]
    return {
        "ratio": summary(ratios),
        "cpu_ratio": summary(cpu_ratios),
        "seconds_median": {k: round(statistics.median(v), 3) for k, v in wall.items()},
        "seconds": {k: [round(t, 3) for t in v] for k, v in wall.items()},
        "rounds": rounds,
    }


def line(name: str, result: dict) -> str:
    r, s = result["ratio"], result["seconds_median"]
    return (
        f"{name:34s} ref {s['reference']:7.3f} s  gst {s['gst']:7.3f} s  "
        f"ref/gst {r['median']:.2f}x [{r['min']:.2f}-{r['max']:.2f}]"
    )
