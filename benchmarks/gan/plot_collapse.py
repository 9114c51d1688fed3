"""Modes covered against steps, per method and seed, from bench_collapse.py's results.

One panel per data set and method, one line per seed (the benchmark's own mode count
at every measuring step, solid; the watch's count of the modes it reached, dotted, where
the watch's modes are the data's separate components); a cross marks each measurement at
which MetricCallback's collapse watch warned (after the warm-up). It also prints how often
the watch's verdicts agree with the mode count.

    python benchmarks/gan/plot_collapse.py benchmarks/results/gan_collapse_separate_ring.json \\
        benchmarks/results/gan_collapse_separate_shapes.json -o docs/gan_collapse_separate.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

try:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
except ImportError as exc:  # a benchmark script: the dev extra brings matplotlib
    raise SystemExit("plot_collapse.py needs matplotlib: pip install 'gst-toolkit[dev]'") from exc

TOTAL = {"ring": 8, "shapes": 10}
LABELS = {
    "non_saturating": "non-saturating",
    "hinge": "hinge",
    "wgan_gp": "WGAN-GP",
    "instance_noise": "instance noise",
    "minibatch_std": "minibatch stddev",
}
COLOURS = ("tab:blue", "tab:orange", "tab:green")


def confusion(runs: list[dict], total: int) -> dict[str, dict[str, int]]:
    """Runs that collapsed (fewer than ``total`` modes at the end, by the benchmark's own
    count) against runs the watch warned on: at the last measurement, and at any point
    after the warm-up."""
    table = {}
    for when in ("end", "any"):
        cells = {"collapsed, warned": 0, "collapsed, quiet": 0, "full, warned": 0, "full, quiet": 0}
        for r in runs:
            flags = [t["collapse"] for t in r["trajectory"]]
            warned = flags[-1] if when == "end" else any(flags)
            full = r["trajectory"][-1]["modes_covered"] == total
            cells[f"{'full' if full else 'collapsed'}, {'warned' if warned else 'quiet'}"] += 1
        table[when] = cells
    return table


def agreement(runs: list[dict]) -> None:
    """Print, per data set, how the watch's verdicts match the independent mode count.

    Per run (confusion table, see :func:`confusion`) and per measurement: every
    measurement after a run's warm-up counts once, warned or not, all modes covered or
    not (so a run that loses modes and recovers counts as it went).
    """
    for data, total in TOTAL.items():
        these = [r for r in runs if r["data"] == data]
        if not these:
            continue
        for when, cells in confusion(these, total).items():
            at = "at the last measurement" if when == "end" else "at any point after warm-up"
            print(f"{data}, runs, warned {at}: {cells}")
        cells = {(w, full): 0 for w in (True, False) for full in (True, False)}
        for r in these:
            for t in (t for t in r["trajectory"] if t["step"] > r["warmup_steps"]):
                cells[t["collapse"], t["modes_covered"] == total] += 1
        print(
            f"{data}, measurements after warm-up: warned with a mode missing "
            f"{cells[True, False]}, quiet with a mode missing {cells[False, False]}, "
            f"warned with all {total} {cells[True, True]}, quiet with all {total} "
            f"{cells[False, True]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="bench_collapse.py JSON files")
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/gan_collapse_separate.png"))
    args = parser.parse_args()
    runs = [r for path in args.results for r in json.loads(path.read_text())["runs"]]
    agreement(runs)
    datasets = [d for d in TOTAL if any(r["data"] == d for r in runs)]
    methods = [m for m in LABELS if any(r["method"] == m for r in runs)]
    fig, axes = plt.subplots(
        len(datasets),
        len(methods),
        figsize=(2.3 * len(methods), 2.0 * len(datasets)),
        squeeze=False,
        sharey="row",
    )
    for row, data in enumerate(datasets):
        for col, method in enumerate(methods):
            ax = axes[row][col]
            for r in (r for r in runs if r["data"] == data and r["method"] == method):
                steps = [t["step"] for t in r["trajectory"]]
                modes = [t["modes_covered"] for t in r["trajectory"]]
                colour = COLOURS[r["seed"] % len(COLOURS)]
                ax.plot(steps, modes, color=colour, lw=1.2, label=f"seed {r['seed']}")
                if r.get("modes_separated"):  # the watch's own count of the same modes
                    reached = [round(t["modes"] * r["clusters"]) for t in r["trajectory"]]
                    ax.plot(steps, reached, color=colour, lw=0.8, ls=":")
                warned = [t for t in r["trajectory"] if t["collapse"]]
                if warned:
                    at = [t["step"] for t in warned]
                    ax.plot(at, [t["modes_covered"] for t in warned], "x", color=colour, ms=5)
            ax.set_ylim(-0.4, TOTAL[data] + 0.4)
            ax.set_yticks(range(0, TOTAL[data] + 1, 2))
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if row == 0:
                ax.set_title(LABELS[method], fontsize=9)
            if col == 0:
                ax.set_ylabel(f"{data}: modes covered", fontsize=8)
            if row == len(datasets) - 1:
                ax.set_xlabel("generator steps", fontsize=8)
    axes[0][0].legend(fontsize=6, loc="lower right")
    fig.text(
        0.995,
        0.005,
        "solid: the benchmark's count; dotted: the watch's; x: collapse warning",
        fontsize=7,
        ha="right",
        va="bottom",
    )
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
