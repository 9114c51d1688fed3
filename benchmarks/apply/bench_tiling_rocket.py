"""`--tile 256` against `--tile 0` on scikit-image's rocket (640×427), seeded networks, as in
tests/apply/test_tiling.py; also with the thumbnail limited to one tile's pixels.

    python benchmarks/apply/bench_tiling_rocket.py --out benchmarks/results/tiling_rocket.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from skimage import data
from torch import nn

from gst_core.apply.tiling import Tiling, apply_tiled
from gst_core.kinds import generators


def pix2pix_unet() -> nn.Module:
    """A seeded 5-level U-Net whose batch-norm statistics come from crops of another photo."""
    net = generators.build({"name": "unet", "num_downs": 5, "width": 8})
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        for i in range(4):
            net(photo[..., i * 64 : i * 64 + 256, i * 64 : i * 64 + 256])
    return net


MODELS = {
    "pix2pix_unet5_width8_bn_calibrated": pix2pix_unet,
    "cyclegan_resnet_9blocks_width8": lambda: generators.build(
        {"name": "resnet_9blocks", "width": 8}
    ),
    "fast_style_transformer_net_channels8": lambda: generators.build(
        {"name": "transformer_net", "channels": 8}
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    photo = data.rocket()
    results = {}
    for name, make in MODELS.items():
        torch.manual_seed(0)
        net = make().eval()
        whole = apply_tiled(net, photo, Tiling(tile=0)).astype(np.float64) / 255
        row = {"output_std": round(float(whole.std()), 4)}
        for label, tiling in [
            ("tile256", Tiling(tile=256)),
            ("tile256_thumbnail_one_tile", Tiling(tile=256, thumbnail=256 * 256)),
        ]:
            tiled = apply_tiled(net, photo, tiling).astype(np.float64) / 255
            row[label] = round(float(np.abs(whole - tiled).mean()), 5)
        results[name] = row
        print(name, row, flush=True)
    if args.out:
        conditions = (
            "skimage rocket 640x427, uint8 in/out as gst translate, seeded networks "
            "(torch.manual_seed(0)); mean abs diff on 0..1 of --tile 256 vs --tile 0; second "
            "column: thumbnail limited to one tile's pixels"
        )
        args.out.write_text(json.dumps({"conditions": conditions, "results": results}, indent=1))


if __name__ == "__main__":
    main()
