"""Whole processes, as a user runs them: ``gst train pix2pix`` for a few steps and ``gst
translate`` of a folder against the minimal plain-torch scripts in reference_scripts/.

Each run is a fresh process with one thread (start-up, data, checkpoint writing included);
rounds alternate which goes first. The data are bench_startup.py's: side-by-side AB pairs of
scikit-image photos at 256² for training, its 256² photos for translate (through the unet_256
each side has just trained). Wall and CPU time (user + sys of the child) per run; the ratio per
round is reference / gst (> 1: gst faster).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench_startup import PHOTOS, make_data, run, summary
from interleave import summary as ratio_summary

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "reference_scripts"


def commands(work: Path, pairs: Path, photos: Path, steps: int) -> dict[str, dict[str, list]]:
    gst_run, ref_run = work / "gst-run", work / "ref-run"
    return {
        f"train_pix2pix_{steps}_steps": {
            "gst": [["train", "pix2pix", "--data", str(pairs), "--steps", str(steps),
                     "--threads", "1", "--run-dir", str(gst_run), "--overwrite"], None],
            "reference": [[str(pairs), str(ref_run), "--steps", str(steps)],
                          [str(SCRIPTS / "train_pix2pix.py")]],
        },
        "translate_photos": {
            "gst": [["translate", str(gst_run), str(photos), "-o", str(work / "gst-out"),
                     "--overwrite", "--threads", "1"], None],
            "reference": [[str(ref_run / "latest_net_G.pth"), str(photos), str(work / "ref-out")],
                          [str(SCRIPTS / "translate.py")]],
        },
    }  # fmt: skip


def whole_process(rounds: int, steps: int = 3, pairs: int = 20) -> dict:
    work = Path(tempfile.mkdtemp(prefix="gst-sbs-"))
    try:
        pair_dir, photo_dir = make_data(work / "data", pairs)
        cmds = commands(work, pair_dir, photo_dir, steps)
        times = {n: {w: {"wall": [], "cpu": []} for w in ("gst", "reference")} for n in cmds}
        for r in range(rounds):
            order = ("reference", "gst") if r % 2 == 0 else ("gst", "reference")
            for who in order:
                for name, per in cmds.items():  # train, then translate its checkpoint
                    args, prefix = per[who]
                    out = run(REPO, args, prefix)
                    times[name][who]["wall"].append(out["wall"])
                    times[name][who]["cpu"].append(out["cpu"])
                    print(f"round {r} {who:9s} {name:22s} wall {out['wall']:6.2f} s "
                          f"cpu {out['cpu']:6.2f} s", flush=True)  # fmt: skip
        result = {
            "data": f"{pairs} AB pairs at 256² for training ({steps} steps, batch 1); "
            f"{len(PHOTOS)} 256² photos for translate",
            "rounds": rounds,
        }
        for name, per in times.items():
            result[name] = {
                "seconds": {w: {k: summary(v) for k, v in t.items()} for w, t in per.items()},
                **{
                    f"{k}_ratio": ratio_summary(
                        [a / b for a, b in zip(per["reference"][k], per["gst"][k], strict=True)]
                    )
                    for k in ("wall", "cpu")
                },
            }
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
