"""Small synthetic images for the style-transfer tests."""

from __future__ import annotations

import torch


def smooth_image(h: int, w: int, seed: int) -> torch.Tensor:
    """A smooth random colour image (1, 3, h, w) in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, 3, max(2, h // 8), max(2, w // 8), generator=g)
    return torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)


def stripes_image(h: int, w: int, seed: int) -> torch.Tensor:
    """A high-contrast striped texture: a style clearly different from smooth content."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(h).view(h, 1).float()
    x = torch.arange(w).view(1, w).float()
    phase = torch.rand(3, generator=g) * 6.28
    return torch.stack([0.5 + 0.5 * torch.sin((x + y) * 0.8 + p) for p in phase]).unsqueeze(0)
