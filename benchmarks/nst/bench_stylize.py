"""gst stylize against the PyTorch Neural Transfer tutorial, on the same machine, in one run.

Both optimise the same image with VGG19 (random weights: none can be
downloaded here, and the time per evaluation does not depend on the values),
content at conv_4 (= conv2_2), style at conv_1 … conv_5 (= conv1_1, conv1_2,
conv2_1, conv2_2, conv3_1), L-BFGS, content weight 1, style weight 1e6.

* Time: seconds per L-BFGS function evaluation (forward + backward), the two
  implementations interleaved (ref, gst, ref, gst, ...) so background load
  hits both alike; the first evaluation of every run is left out (warm-up).
* Memory: peak resident set size (``getrusage`` ``ru_maxrss``) of a fresh
  subprocess per implementation and size, started before the timing runs (a
  child inherits its parent's ``ru_maxrss``); the largest size that fits in the
  machine's memory is extrapolated from the peaks at two sizes.

    python benchmarks/nst/bench_stylize.py                   # 256² and 512², memory at 512/1024
    python benchmarks/nst/bench_stylize.py --sizes 128 --evals 4 --memory-sizes   # quick
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tutorial_reference as ref  # noqa: E402

from gst_core.kinds import feature_extractors, losses  # noqa: E402
from gst_core.pipelines import StyleTransfer  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
GST_CONTENT = ["conv2_2"]
GST_STYLE = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]


def images(size: int):
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)


def vgg19():
    return feature_extractors.build("vgg19", weights="random", seed=0)


def tutorial_features() -> torch.nn.Module:
    """The same seeded weights in torchvision's own (NCHW) layout, as the tutorial has them.

    gst's extractor stores its weights channels-last; handing those to the
    tutorial's code would switch its convolutions (and its ``mse_loss``) to
    NHWC too, which is not what a tutorial user runs.
    """
    return feature_extractors.build("vgg19", weights="random", seed=0, channels_last=False).features


def run_reference(features, size: int, evals: int) -> list[float]:
    content, style = images(size)
    stamps: list[float] = []
    ref.run_style_transfer(
        features,
        MEAN,
        STD,
        content,
        style,
        content.clone(),
        num_steps=evals - 1,
        on_eval=lambda: stamps.append(time.perf_counter()),
    )
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)][: evals - 1]


def run_gst(vgg, size: int, evals: int) -> list[float]:
    content, style = images(size)
    stamps: list[float] = []
    transfer = StyleTransfer(
        vgg,
        losses.build("content", layers=GST_CONTENT),
        losses.build("style", layers=GST_STYLE),
        steps=evals,
        content_weight=1.0,
        style_weight=1e6,
        tv_weight=0.0,
        progress=False,
    )
    transfer.run(content, [style], callback=lambda *_: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


def time_sizes(sizes: list[int], evals: int, rounds: int) -> list[dict]:
    vgg, features = vgg19(), tutorial_features()
    rows = []
    for size in sizes:
        per = {"reference": [], "gst": []}
        for _ in range(rounds):
            per["reference"] += run_reference(features, size, evals)
            per["gst"] += run_gst(vgg, size, evals)
        r, g = statistics.median(per["reference"]), statistics.median(per["gst"])
        rows.append(
            {
                "size": size,
                "reference_s": r,
                "gst_s": g,
                "ratio": g / r,
                "evals_each": len(per["gst"]),
            }
        )
        print(
            f"{size}²: reference {r:.3f} s/eval, gst {g:.3f} s/eval, gst/ref = {g / r:.2f}",
            flush=True,
        )
    return rows


def memory_child(which: str, size: int, evals: int) -> None:
    model = tutorial_features() if which == "reference" else vgg19()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (run_reference if which == "reference" else run_gst)(model, size, evals)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "peak_kib": peak}))


def measure_memory(sizes: list[int], evals: int) -> list[dict]:
    rows = []
    for size in sizes:
        row = {"size": size}
        for which in ("reference", "gst"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--memory-child",
                    which,
                    "--size",
                    str(size),
                    "--evals",
                    str(evals),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            row[which] = json.loads(out.stdout.strip().splitlines()[-1])
        r, g = row["reference"]["peak_kib"], row["gst"]["peak_kib"]
        row["ratio"] = g / r
        print(
            f"{size}²: peak RSS reference {r / 2**20:.2f} GiB, gst {g / 2**20:.2f} GiB, "
            f"gst/ref = {g / r:.2f}",
            flush=True,
        )
        rows.append(row)
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        for which in ("reference", "gst"):
            pa, pb = a[which]["peak_kib"] * 1024, b[which]["peak_kib"] * 1024
            per_pixel = (pb - pa) / (b["size"] ** 2 - a["size"] ** 2)
            if per_pixel <= 0:
                continue  # sizes too small to separate from the fixed cost
            fixed = pa - per_pixel * a["size"] ** 2
            total = _total_memory()
            side = int(((total - fixed) / per_pixel) ** 0.5)
            print(
                f"{which}: {per_pixel:.0f} bytes/pixel → about {side}² fits in "
                f"{total / 2**30:.0f} GiB",
                flush=True,
            )
            rows[-1][f"{which}_largest_side"] = side
    return rows


def _total_memory() -> int:
    with open("/proc/meminfo") as f:
        return int(f.readline().split()[1]) * 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[256, 512])
    p.add_argument("--evals", type=int, default=8, help="evaluations per run")
    p.add_argument("--rounds", type=int, default=2, help="interleaved runs per implementation")
    p.add_argument("--memory-sizes", type=int, nargs="*", default=[512, 1024])
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--memory-child", choices=("reference", "gst"), help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.size, args.evals)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    # Memory first: a child inherits its parent's ru_maxrss at fork (Linux), so the
    # children must start before this process has run anything large.
    memory = measure_memory(args.memory_sizes, 3)
    result = {"memory": memory, "time": time_sizes(args.sizes, args.evals, args.rounds)}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
