"""The style loss of one layer: ``mean((gram(F) − T)²)`` as one fused operation."""

from __future__ import annotations

import torch

from .backend import prepare_features, prepare_target, resolve_backend, resolve_tf32
from .torch_impl import TorchMultiStyleLoss

__all__ = ["style_loss"]


def style_loss(
    features: torch.Tensor,
    target_gram: torch.Tensor,
    *,
    backend: str = "auto",
    allow_tf32: bool | None = None,
) -> torch.Tensor:
    """Mean squared difference over all ``B·C·C`` entries between ``gram(features)`` and the target.

    ``target_gram`` is ``(C, C)`` (the same style for every sample) or
    ``(B, C, C)``; it need not be symmetric. Returns a 0-d float32 tensor
    (float64 for float64 input). Differentiable with respect to both
    arguments; the feature gradient is ``dF = 2/(B·C²) · (D + Dᵀ) · F / (C·N)``
    with ``D = G − T`` — one matrix product, no autograd graph through the Gram.
    ``backend`` and ``allow_tf32`` as in :func:`gst_kernels.gram`.
    """
    f = prepare_features(features)
    t = prepare_target(target_gram, f.shape[0], f.shape[1], f.device)
    if resolve_backend(backend, f) == "torch":
        return TorchMultiStyleLoss.apply((1.0,), f, t)
    from .triton_impl import TritonMultiStyleLoss

    return TritonMultiStyleLoss.apply((1.0,), resolve_tf32(allow_tf32), f, t)
