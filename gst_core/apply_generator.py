"""Run an image-to-image generator on an image of any size.

Shared by ``gst stylize --model`` and every command that applies a trained
image generator (fast style, GAN style, pix2pix, CycleGAN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["apply_image_generator"]


@torch.no_grad()
def apply_image_generator(generator: nn.Module, image: Tensor) -> Tensor:
    """``generator`` applied to ``image`` ``(B, C, H, W)`` in ``[0, 1]``; the result in ``[0, 1]``.

    Generators work in ``[-1, 1]`` and some need sizes that are a multiple of
    ``generator.size_multiple`` (a U-Net's or a strided network's downsampling):
    the image is reflection-padded up to one (replicated where it is too small
    to reflect) and the result cropped back, so the output has the input's size.
    """
    multiple = int(getattr(generator, "size_multiple", 1) or 1)
    h, w = image.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    x = image * 2 - 1
    if pad_h or pad_w:
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    out = generator(x)[..., :h, :w]
    return ((out.float() + 1) / 2).clamp_(0, 1)
