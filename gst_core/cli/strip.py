"""Images side by side at one height: `gst stylize --strip` (content | style | output)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["side_by_side"]


def side_by_side(images: Sequence[Tensor], height: int, gap: int = 4) -> Tensor:
    """``(1, 3, H, W)`` images in [0, 1], each scaled to ``height`` keeping its aspect ratio,
    left to right with ``gap`` white pixels between them."""
    scaled = []
    for image in images:
        h, w = image.shape[-2:]
        width = max(1, round(w * height / h))
        scaled.append(
            F.interpolate(
                image.float().cpu(),
                size=(height, width),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            ).clamp(0, 1)  # fmt: skip
        )
    white = torch.ones(1, 3, height, gap)
    parts = [p for image in scaled for p in (image, white)][:-1]
    return torch.cat(parts, dim=-1)
