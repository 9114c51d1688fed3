"""Plain-torch Gram matrix and style loss: the test oracle and the benchmark baseline.

Written for clarity, not speed: autograd differentiates them (in every
argument, and twice), and they are what the faster paths are checked against.
"""

from __future__ import annotations

import torch

from .backend import accumulation_dtype, prepare_features, prepare_target

__all__ = ["gram_reference", "style_loss_reference"]


def gram_reference(features: torch.Tensor) -> torch.Tensor:
    """Per-sample Gram ``G[b] = F[b] F[b]ᵀ / (C·N)`` of ``(B, C, H, W)`` or ``(B, C, N)`` features.

    Computed in float32 (float64 for float64 input) whatever the input dtype,
    so half-precision features never overflow. Returns ``(B, C, C)``.
    """
    f = prepare_features(features)
    f = f.to(accumulation_dtype(f.dtype))
    _, c, n = f.shape
    return torch.bmm(f, f.transpose(1, 2)) / (c * n)


def style_loss_reference(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """``mean((gram(features) - target)²)`` over all ``B·C·C`` entries.

    The target is ``(C, C)`` (broadcast over the batch) or ``(B, C, C)``.
    """
    g = gram_reference(features)
    b, c, _ = g.shape
    t = prepare_target(target_gram, b, c, features.device).to(g.dtype)
    return ((g - t) ** 2).mean()
