"""Where a pix2pix step's time goes: torch.profiler's top operators (self CPU time) of two
steps of the reference and two of gst, after one warm-up step each, one thread."""

from __future__ import annotations

import gst_side
import reference_nets as ref
from reference_steps import Pix2PixStep
from torch.profiler import ProfilerActivity, profile


def top_ops(f, count: int = 10) -> list[dict]:
    f()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        f()
        f()
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    return [
        {
            "op": e.key,
            "self_cpu_s_per_step": round(e.self_cpu_time_total / 2e6, 3),
            "share": round(e.self_cpu_time_total / total, 3),
            "calls_per_step": e.count // 2,
        }
        for e in events[:count]
    ]


def profile_pix2pix() -> dict:
    from bench_side_by_side import photo_pair

    t = gst_side.trainer("pix2pix")
    reference = Pix2PixStep(ref.unet_256(), ref.patchgan_70(6))
    a, b = photo_pair()
    out = {
        "reference": top_ops(lambda: reference(a, b)),
        "gst": top_ops(lambda: gst_side.step(t, a, b)),
    }
    for who, rows in out.items():
        print(who, ", ".join(f"{r['op']} {r['share']:.0%}" for r in rows[:6]), flush=True)
    return out
