"""Where the fixed cost of ``gst train pix2pix`` (1 step) and ``gst translate`` goes, before/after.

Runs the two commands as a user does, each a fresh process with one thread, for two source
trees: ``--before`` (a git revision, extracted with ``git archive``; default ``main``) and the
working tree ("after"). Rounds alternate the order of the trees, so load from other jobs on a
shared machine hits both alike; wall time and the process's CPU time (user + sys, which
other jobs disturb less) are recorded per run, with min-max over the rounds. One run per
command and tree is also profiled: ``python -X importtime`` (the slowest imports) and
``cProfile`` (the top cumulative entries).

The data are real photos (scikit-image): a paired folder of side-by-side AB images at
256² (A the grey photo, B the photo) for training -- the reference's default recipe
(unet_256 + PatchGAN, batch 1), which ``gst train pix2pix --data DIR`` trains -- and the
same photos for translate, through the checkpoint that training wrote.

    python benchmarks/startup/bench_startup.py --rounds 3

writes benchmarks/results/startup_profile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

REPO = Path(__file__).resolve().parents[2]
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "retina", "cat")

PROFILE = """
import cProfile, pstats, sys, io
sys.argv = ["gst", *sys.argv[2:]]
from gst_core.cli import main
profiler = cProfile.Profile()
profiler.enable()
try:
    main()
except SystemExit:
    pass
profiler.disable()
out = io.StringIO()
pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
print("@@PROFILE@@" + out.getvalue())
"""


def make_data(folder: Path, pairs: int) -> tuple[Path, Path]:
    """``folder/pairs/`` of side-by-side AB images and ``folder/photos/`` (256² PNGs)."""
    paired, photos = folder / "pairs", folder / "photos"
    paired.mkdir(parents=True)
    photos.mkdir()
    rng = np.random.default_rng(0)
    images = []
    for name in PHOTOS:
        image = Image.fromarray(getattr(data, name)()).convert("RGB")
        images.append(image)
        image.resize((256, 256), Image.Resampling.BICUBIC).save(photos / f"{name}.png")
    for i in range(pairs):
        image = images[i % len(images)]
        w, h = image.size
        side = int(min(w, h) * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        b = image.crop((x, y, x + side, y + side)).resize((256, 256), Image.Resampling.BICUBIC)
        a = b.convert("L").convert("RGB")
        ab = Image.new("RGB", (512, 256))
        ab.paste(a, (0, 0))
        ab.paste(b, (256, 0))
        ab.save(paired / f"{i:03d}.jpg", quality=95)
    return paired, photos


def tree_of(revision: str, into: Path) -> Path:
    """The source tree of ``revision`` (gst_core, gst_plugins, gst_kernels) in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", revision, "gst_core", "gst_plugins", "gst_kernels", "gst_launch.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run(tree: Path, args: list[str], prefix: list[str] | None = None) -> dict:
    """One ``gst`` process on ``tree``'s sources: wall and CPU seconds, and its output."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *(prefix or ["-m", "gst_core.cli"]), *args],
        env=env,
        cwd=tree.parent,  # not a source tree: -m and -c put the working folder first on sys.path
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed on {tree}:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": done.stdout, "stderr": done.stderr}


def commands(work: Path, pairs: Path, photos: Path, tag: str) -> dict[str, list[str]]:
    run_dir = work / f"run-{tag}"
    return {
        "train_pix2pix_1_step": [
            "train", "pix2pix", "--data", str(pairs), "--steps", "1", "--threads", "1",
            "--run-dir", str(run_dir), "--overwrite",
        ],
        "translate_photos": [
            "translate", str(run_dir), str(photos), "-o", str(work / f"out-{tag}"),
            "--overwrite", "--threads", "1",
        ],
    }  # fmt: skip


def top_imports(stderr: str, count: int = 12) -> list[dict]:
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 3:  # top-level imports and their direct children
            rows.append({"module": m.group(4), "cumulative_s": int(m.group(2)) / 1e6})
    rows.sort(key=lambda r: -r["cumulative_s"])
    return [{**r, "cumulative_s": round(r["cumulative_s"], 3)} for r in rows[:count]]


def top_functions(stdout: str, count: int = 25) -> list[str]:
    text = stdout.split("@@PROFILE@@", 1)[-1]
    lines = [ln.rstrip() for ln in text.splitlines() if re.match(r"\s*[\d/]+\s+[\d.]+", ln)]
    keep = [ln for ln in lines if "importlib" not in ln and "{built-in method builtins" not in ln]
    return keep[:count]


def summary(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "runs": [round(v, 2) for v in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision of the 'before' tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--json", type=Path, default=REPO / "benchmarks/results/startup_profile.json"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gst-startup-"))
    try:
        pairs, photos = make_data(work / "data", args.pairs)
        trees = {"before": tree_of(args.before, work / "before"), "after": REPO}
        load_before = os.getloadavg()
        times: dict[str, dict[str, dict[str, list[float]]]] = {
            tag: {} for tag in trees
        }  # tree -> command -> wall/cpu
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(trees)[::-1]
            for tag in order:
                for name, cmd in commands(work, pairs, photos, tag).items():
                    out = run(trees[tag], cmd)
                    slot = times[tag].setdefault(name, {"wall": [], "cpu": []})
                    slot["wall"].append(out["wall"])
                    slot["cpu"].append(out["cpu"])
                    print(f"round {r} {tag:6s} {name:22s} wall {out['wall']:6.2f} s "
                          f"cpu {out['cpu']:6.2f} s", flush=True)  # fmt: skip
        profiles = {}
        if not args.no_profile:
            for tag, tree in trees.items():
                profiles[tag] = {}
                for name, cmd in commands(work, pairs, photos, tag).items():
                    imports = run(tree, cmd, ["-X", "importtime", "-m", "gst_core.cli"])
                    prof = run(tree, cmd, ["-c", PROFILE, "gst"])
                    profiles[tag][name] = {
                        "wall_s_under_importtime": round(imports["wall"], 2),
                        "top_imports": top_imports(imports["stderr"]),
                        "wall_s_under_cprofile": round(prof["wall"], 2),
                        "top_cumulative": top_functions(prof["stdout"]),
                    }
        result = {
            "benchmark": "startup_profile",
            "before": args.before,
            "after": "working tree",
            "data": f"{args.pairs} side-by-side AB pairs at 256² (grey | colour crops of "
            f"scikit-image photos) for training; {len(PHOTOS)} 256² photos for translate",
            "seconds": {
                tag: {name: {k: summary(v) for k, v in slot.items()} for name, slot in cmds.items()}
                for tag, cmds in times.items()
            },
            "after_over_before_median": {
                name: {
                    k: round(
                        statistics.median(times["after"][name][k])
                        / statistics.median(times["before"][name][k]),
                        3,
                    )
                    for k in ("wall", "cpu")
                }
                for name in times["after"]
            },
            "profiles": profiles,
            "conditions": {
                "threads": 1,
                "rounds": args.rounds,
                "load_average_1_5_15_before": [round(v, 2) for v in load_before],
                "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} "
                "CPU cores shared with other jobs",
                "python": platform.python_version(),
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: result[k] for k in ("seconds", "after_over_before_median")}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
