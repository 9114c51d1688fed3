"""Gatys early stop on a 256-px photo: evaluations and loss with and without it (issue 10).

Content: scikit-learn's sample photo ``china.jpg`` (needs the dev/sklearn extra);
style: the built-in drawn swirls; extractor: the offline ``random_multiscale``;
gst's default weights; 300 L-BFGS evaluations allowed; one thread.
Runs the default stop (tolerance 1e-3 over 20 evaluations) and ``tolerance=0``
(every evaluation) and reports evaluations, CPU seconds and the final losses.

    .venv/bin/python benchmarks/nst/bench_convergence.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from gst_core.images import load_image, pil_to_tensor
from gst_core.kinds import feature_extractors
from gst_core.pipelines import StyleTransfer
from gst_plugins.datasets.style_samples import sample_style

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        # Read back through load_image, exactly as `gst stylize --size 256` reads a photo.
        path = Path(tmp) / "china.png"
        Image.fromarray(load_sample_images().images[0]).save(path)  # 640×427
        content = load_image(path, 256)
    style = pil_to_tensor(sample_style(256, 256))
    rows = []
    for tolerance in (1e-3, 0.0):
        start = time.process_time()
        transfer = StyleTransfer(
            feature_extractors.build("random_multiscale"),
            progress=False,
            tolerance=tolerance,
            steps=300,
        )
        out = transfer.run(content, [style])
        p = transfer.perceptual
        terms = p(out, p.content_targets(content), p.style_targets(style))
        rows.append(
            {
                "tolerance": tolerance,
                "evaluations": transfer.evaluations,
                "cpu_s": round(time.process_time() - start, 1),
                **{k: float(v) for k, v in terms.items()},
            }
        )
        print(rows[-1], flush=True)
    out_path = ROOT / "benchmarks/results/gatys_convergence_256.json"
    out_path.write_text(
        json.dumps({"benchmark": "Gatys early stop, 256 px", "runs": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
