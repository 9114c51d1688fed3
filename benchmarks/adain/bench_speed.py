"""AdaIN stylisation speed: gst's ``adain_stylize`` vs pytorch-AdaIN's ``test.py`` forward.

The reference (``tests/adain/pytorch_adain_reference.py``) is written out from
pytorch-AdaIN (naoto0804/pytorch-AdaIN): ``net.vgg`` cut at relu4_1 (a 1×1 conv,
then VGG19 with reflection padding), ``net.decoder`` and ``test.py``'s
``style_transfer`` (encode content and style, ``adaptive_instance_normalization``,
``alpha`` mix, decode) under ``torch.no_grad()``. gst runs the same weights: the
reference's state dicts are saved and loaded through ``vgg_normalised`` and
``load_reference_decoder``, as a user with pytorch-AdaIN's files would. gst's time
includes what it adds per call (padding to a multiple of 8, the crop, the clamp).
Both get the same content and style photo (scikit-image's astronaut and chelsea)
at SIZE²; the runs alternate in one process so load affects both alike. The
weights are random: speed does not depend on them.

    .venv/bin/python benchmarks/adain/bench_speed.py --threads 1 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from skimage import data

from gst_core.apply.adain_model import AdaINModel, adain_stylize
from gst_core.kinds import feature_extractors
from gst_plugins.generators.adain_decoder import load_reference_decoder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from adain.pytorch_adain_reference import (  # noqa: E402  (the tests' reference)
    reference_decoder,
    reference_vgg,
    style_transfer,
)


def photo(array, size: int) -> torch.Tensor:
    image = torch.from_numpy(array).permute(2, 0, 1).float().div(255).unsqueeze(0)
    return F.interpolate(image, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/adain_speed.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vgg, decoder = reference_vgg().eval(), reference_decoder().eval()
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(vgg.state_dict(), Path(tmp) / "vgg_normalised.pth")
        torch.save(decoder.state_dict(), Path(tmp) / "decoder.pth")
        encoder = feature_extractors.build(
            "vgg_normalised", weights=str(Path(tmp) / "vgg_normalised.pth"), layers=["relu4_1"]
        )
        model = AdaINModel(encoder, load_reference_decoder(Path(tmp) / "decoder.pth"), "relu4_1")
    rows = {}
    for size in (int(s) for s in args.sizes.split(",")):
        content, style = photo(data.astronaut(), size), photo(data.chelsea(), size)
        runs = {
            "gst": lambda c=content, s=style: adain_stylize(model, c, s),
            "pytorch_adain": lambda c=content, s=style: style_transfer(vgg, decoder, c, s),
        }
        with torch.no_grad():
            same = (runs["gst"]() - runs["pytorch_adain"]().clamp(0, 1)).abs().max().item()
            times: dict[str, list[float]] = {k: [] for k in runs}
            for _ in range(args.repeats):
                for name, run in runs.items():
                    start = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - start)
        ratios = [r / g for g, r in zip(times["gst"], times["pytorch_adain"], strict=True)]
        rows[f"{size}x{size}"] = {
            "images_per_second": {k: round(1 / statistics.median(v), 3) for k, v in times.items()},
            "speed_ratio_gst_over_reference": {
                "median": round(statistics.median(ratios), 3),
                "min": round(min(ratios), 3),
                "max": round(max(ratios), 3),
            },
            "max_abs_output_difference": same,
        }
        print(size, rows[f"{size}x{size}"], flush=True)
    result = {
        "benchmark": "AdaIN images/s: gst adain_stylize vs pytorch-AdaIN test.py forward "
        "(encoder to relu4_1 + AdaIN + decoder, same weights)",
        "machine": f"{platform.machine()}, torch {torch.__version__}, {args.threads} thread(s)",
        "conditions": "CPU, shared 2-core machine under load from other jobs; one content and "
        "one style per call (batch 1); runs interleaved gst/reference in one process; the first "
        "pair (the output check) is the warm-up; ratio = reference time / gst time per pair",
        "repeats": args.repeats,
        "results": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
