"""Compound regularisation for temporally stable feed-forward stylisation (no video needed).

Wang et al., "Consistent Video Style Transfer via Compound Regularization" (AAAI 2020):
warp a training image by a random smooth flow ``W`` and add a little noise ``Δ``, then ask
that stylising commutes with the motion: ``G(W(x) + Δ) ≈ W(G(x))``. A network trained so
flickers less on video, without optical-flow networks or video data.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["compound_temporal_loss", "random_smooth_flow", "warp_images"]


def random_smooth_flow(
    batch: int, height: int, width: int, *, max_shift: float, device=None, grid: int = 4
) -> Tensor:
    """Flows ``(B, H, W, 2)`` in pixels (x, y): a random global shift plus a smooth field
    (random values on a ``grid × grid`` lattice, upsampled bicubically), at most about
    ``max_shift`` pixels."""
    shift = (torch.rand(batch, 2, 1, 1, device=device) * 2 - 1) * (max_shift / 2)
    field = (torch.rand(batch, 2, grid, grid, device=device) * 2 - 1) * (max_shift / 2)
    smooth = F.interpolate(field, size=(height, width), mode="bicubic", align_corners=True)
    return (shift + smooth).permute(0, 2, 3, 1)


def warp_images(images: Tensor, flow: Tensor) -> Tensor:
    """``images`` ``(B, C, H, W)`` sampled at ``p + flow(p)`` (bilinear, edges repeated)."""
    _, _, h, w = images.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=images.device, dtype=flow.dtype),
        torch.arange(w, device=images.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = (xs + flow[..., 0]) * (2 / max(w - 1, 1)) - 1
    y = (ys + flow[..., 1]) * (2 / max(h - 1, 1)) - 1
    grid = torch.stack([x, y], dim=-1).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


def compound_temporal_loss(
    generator: nn.Module,
    images: Tensor,
    stylised: Tensor,
    *,
    max_shift: float = 8.0,
    noise: float = 0.02,
) -> Tensor:
    """``mean((G(W(x) + Δ) − W(G(x)))²)`` for a fresh random smooth flow ``W`` and Gaussian
    noise ``Δ`` of std ``noise`` (images in [-1, 1]; ``stylised`` is ``G(images)``)."""
    b, _, h, w = images.shape
    flow = random_smooth_flow(b, h, w, max_shift=max_shift, device=images.device)
    moved = warp_images(images, flow) + noise * torch.randn_like(images)
    return F.mse_loss(generator(moved).float(), warp_images(stylised.float(), flow.float()))
