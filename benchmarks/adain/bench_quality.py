"""AdaIN quality on held-out content and held-out styles, after a CPU-budgeted training run.

Usage: python benchmarks/adain/bench_quality.py RUN_DIR CPU_SECONDS OUT.json [STRIP.png]

Held-out content: scikit-image photos (astronaut, chelsea, coffee, rocket), none in
``content_photos``; held-out styles: scikit-image textures (brick, grass, gravel) and a
drawn swirl (``sample_style``), none in ``drawn_styles``. Measured in the encoder's
space: style distance (means/stds, and Gram) of the output vs the unstylised content;
content loss (relu4_1 vs the AdaIN target) vs "Gatys with the same losses": pixels
optimised by Adam (200 steps) from the content for the same objective; and the RGB
mean/std distance to the style (independent of any network).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data

from gst_core.apply.adain_model import adain_stylize, load_adain
from gst_core.feature_stats import adain, mean_std
from gst_core.images import make_grid, pil_to_tensor, save_image
from gst_plugins.datasets.style_samples import sample_style
from gst_plugins.objectives.adain import ADAIN_LAYERS, adain_losses, build_encoder

SIZE = 64


def square(array: np.ndarray) -> torch.Tensor:
    image = Image.fromarray(array if array.ndim == 3 else np.stack([array] * 3, -1))
    side = min(image.size)
    image = image.crop((0, 0, side, side)).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return pil_to_tensor(image.convert("RGB"))


def gram(x: torch.Tensor) -> torch.Tensor:
    f = x.flatten(2)
    return f @ f.transpose(1, 2) / f.shape[-1] / f.shape[1]


def distances(enc, image, style):
    a, b = enc(image), enc(style)
    ms = sum(
        F.mse_loss(p, q).item()
        for n in ADAIN_LAYERS
        for p, q in zip(mean_std(a[n]), mean_std(b[n]), strict=True)
    )
    gr = sum(F.mse_loss(gram(a[n]), gram(b[n])).item() for n in ADAIN_LAYERS)
    return ms, gr


def main() -> None:
    run, cpu_s, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(1)
    model = load_adain(run)
    from gst_core.checkpoint import load_checkpoint

    spec = load_checkpoint(run)["objective_config"]["encoder"]
    enc = build_encoder(spec, ADAIN_LAYERS)
    contents = [square(getattr(data, n)()) for n in ("astronaut", "chelsea", "coffee", "rocket")]
    styles = [square(getattr(data, n)()) for n in ("brick", "grass", "gravel")]
    styles.append(pil_to_tensor(sample_style(SIZE, SIZE, seed=7)))
    rows: list[dict] = []
    strip = []
    for ci, c in enumerate(contents):
        for si, s in enumerate(styles):
            with torch.no_grad():
                y = adain_stylize(model, c, s)
                stats = {n: mean_std(f) for n, f in enc(s).items()}
                target = adain(enc(c)["relu4_1"], *stats["relu4_1"])
                c_adain, s_adain = adain_losses(enc(y), target, stats, ADAIN_LAYERS)
            x = c.clone().requires_grad_(True)
            opt = torch.optim.Adam([x], lr=0.02)
            for _ in range(200):
                cl, sl = adain_losses(enc(x), target, stats, ADAIN_LAYERS)
                loss = cl + 10 * sl
                opt.zero_grad()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    x.clamp_(0, 1)
            with torch.no_grad():
                c_gatys, s_gatys = adain_losses(enc(x), target, stats, ADAIN_LAYERS)
                ms_out, gr_out = distances(enc, y, s)
                ms_in, gr_in = distances(enc, c, s)
                rgb = lambda im: torch.cat([im.mean((2, 3)), im.std((2, 3))])  # noqa: E731
                col_out = (rgb(y) - rgb(s)).abs().mean().item()
                col_in = (rgb(c) - rgb(s)).abs().mean().item()
            rows.append({"content": ci, "style": si, "meanstd_out": ms_out, "meanstd_in": ms_in,
                         "gram_out": gr_out, "gram_in": gr_in,
                         "content_loss_adain": c_adain.item(), "content_loss_gatys": c_gatys.item(),
                         "style_loss_adain": s_adain.item(), "style_loss_gatys": s_gatys.item(),
                         "rgb_stat_dist_out": col_out, "rgb_stat_dist_in": col_in})  # fmt: skip
            if si in (0, 3):
                strip.append((c, s, y, x.detach()))
    mean = lambda k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    summary = {
        "meanstd_ratio": mean("meanstd_out") / mean("meanstd_in"),
        "gram_ratio": mean("gram_out") / mean("gram_in"),
        "content_loss_vs_gatys": mean("content_loss_adain") / mean("content_loss_gatys"),
        "rgb_stat_dist_out_vs_in": mean("rgb_stat_dist_out") / mean("rgb_stat_dist_in"),
        "colour_moved_toward_style": sum(
            r["rgb_stat_dist_out"] < r["rgb_stat_dist_in"] for r in rows
        )
        / len(rows),  # fmt: skip
    }
    result = {
        "conditions": {
            "training_cpu_seconds": cpu_s,
            "run": run,
            "size": SIZE,
            "encoder": spec,
            "threads": 1,
            "gatys": "Adam lr 0.02, 200 steps, same losses",
            "machine": "shared 2-core CPU, ~8 engineers' jobs",
        },  # fmt: skip
        "summary": summary,
        "pairs": rows,
    }
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(json.dumps(summary, indent=1))
    if len(sys.argv) > 4:
        cols = [torch.cat(t) for t in zip(*strip, strict=True)]
        save_image(make_grid(torch.cat(cols), nrow=len(strip)), sys.argv[4])


if __name__ == "__main__":
    main()
