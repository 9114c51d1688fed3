"""Adam's update: torch's default loop vs ``foreach=True`` vs ``fused=True``, in one process.

The parameter sets are the reference recipes' networks: pix2pix (unet_256 +
70x70 PatchGAN, 57 M parameters) and CycleGAN (two resnet_9blocks + two
PatchGANs, 28 M). Each implementation gets its own copy of the parameters and
the same random gradients; rounds interleave the three, and the time of one
``optimizer.step()`` is reported as median [min-max] over rounds, with the
largest difference of the updated weights from the loop's (the fused kernel
rounds differently). ``gst_core/training/optimizer_impl.py`` takes its default
from this.

    python benchmarks/gan/bench_optimizer.py --rounds 9 --json benchmarks/results/optimizer_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "i2i"))
from _common import machine, write_json  # noqa: E402

from gst_core.kinds import discriminators, generators  # noqa: E402

IMPLEMENTATIONS = {
    "loop": {"foreach": False},
    "foreach": {"foreach": True},
    "fused": {"fused": True},
}


def recipe_parameters(name: str) -> list[torch.Tensor]:
    torch.manual_seed(0)
    if name == "pix2pix":
        nets = [generators.build("unet_256"), discriminators.build("patchgan")]
    else:
        nets = [generators.build("resnet_9blocks") for _ in range(2)]
        nets += [discriminators.build("patchgan") for _ in range(2)]
    return [p.detach() for net in nets for p in net.parameters()]


def time_steps(params: list[torch.Tensor], rounds: int) -> dict[str, object]:
    gradients = [torch.randn_like(p) for p in params]
    optimizers = {}
    for name, kwargs in IMPLEMENTATIONS.items():
        copies = [p.clone().requires_grad_() for p in params]
        for copy, grad in zip(copies, gradients, strict=True):
            copy.grad = grad.clone()
        optimizers[name] = torch.optim.Adam(copies, lr=2e-4, betas=(0.5, 0.999), **kwargs)
        optimizers[name].step()  # moments allocated outside the timing
    seconds: dict[str, list[float]] = {name: [] for name in optimizers}
    for round_ in range(rounds):
        order = list(optimizers) if round_ % 2 == 0 else list(reversed(optimizers))
        for name in order:
            start = time.perf_counter()
            optimizers[name].step()
            seconds[name].append(time.perf_counter() - start)
    loop = optimizers["loop"].param_groups[0]["params"]
    result: dict[str, object] = {"parameters_millions": sum(p.numel() for p in params) / 1e6}
    for name, values in seconds.items():
        mine = optimizers[name].param_groups[0]["params"]
        result[name] = {
            "step_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "loop_over_this": statistics.median(
                a / b for a, b in zip(seconds["loop"], values, strict=True)
            ),
            "max_abs_diff_vs_loop": max(
                (a - b).abs().max().item() for a, b in zip(loop, mine, strict=True)
            ),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {
        "machine": machine(),
        "conditions": {"threads": args.threads, "load_average_start": os.getloadavg()},
        "rounds": args.rounds,
    }
    for recipe in ("pix2pix", "cyclegan"):
        result[recipe] = time_steps(recipe_parameters(recipe), args.rounds)
        print(recipe, json.dumps(result[recipe], indent=1))
    result["conditions"]["load_average_end"] = os.getloadavg()
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
