"""A minimal pix2pix training script in plain torch, as a reference user would write it.

Reads side-by-side AB images (A left, B right), junyanz's aligned preprocessing (resize to
286, random 256 crop, random flip, [-1, 1]), batch 1, unet_256 + PatchGAN, Adam 2e-4
(0.5, 0.999), GAN + 100 L1, one thread; saves the weights of G and D at the end, as
``latest_net_G.pth`` / ``latest_net_D.pth``.

    python train_pix2pix.py DATA_DIR OUT_DIR --steps 3
"""

import argparse
import random
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference_nets as nets  # noqa: E402
from reference_steps import Pix2PixStep  # noqa: E402


def load_pair(path):
    ab = Image.open(path).convert("RGB")
    w, h = ab.size
    a, b = ab.crop((0, 0, w // 2, h)), ab.crop((w // 2, 0, w, h))
    x, y, flip = random.randint(0, 30), random.randint(0, 30), random.random() < 0.5
    out = []
    for im in (a, b):
        im = im.resize((286, 286), Image.Resampling.BICUBIC).crop((x, y, x + 256, y + 256))
        if flip:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        t = torch.from_numpy(np.asarray(im, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1
        out.append(t[None])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    files = sorted(Path(args.data).glob("*.jpg"))
    g, d = nets.unet_256(), nets.patchgan_70(6)
    step = Pix2PixStep(g, d)
    for i in range(args.steps):
        a, b = load_pair(files[i % len(files)])
        loss_d, loss_g = step(a, b)
        print(f"step {i + 1}: loss_D {loss_d:.3f} loss_G {loss_g:.3f}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(g.state_dict(), out / "latest_net_G.pth")
    torch.save(d.state_dict(), out / "latest_net_D.pth")


if __name__ == "__main__":
    main()
