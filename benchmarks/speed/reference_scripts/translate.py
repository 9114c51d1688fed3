"""A minimal translate script in plain torch: a trained unet_256 over a folder of photos.

As junyanz's test.py does per image: eval mode, [-1, 1] input, forward under no_grad,
back to 8-bit, saved as PNG. One thread.

    python translate.py WEIGHTS.pth IN_DIR OUT_DIR
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference_nets as nets  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("inputs")
    p.add_argument("out")
    args = p.parse_args()
    torch.set_num_threads(1)
    g = nets.unet_256()
    g.load_state_dict(torch.load(args.weights, map_location="cpu"))
    g.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(args.inputs).glob("*.png")):
        x = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
        x = torch.from_numpy(x).permute(2, 0, 1)[None] / 127.5 - 1
        with torch.no_grad():
            y = g(x)[0]
        y = ((y.permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)
        Image.fromarray(y).save(out / path.name)


if __name__ == "__main__":
    main()
