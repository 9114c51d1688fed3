"""The per-sample Gram matrix ``G[b] = F[b] F[b]ᵀ / (C·H·W)``."""

from __future__ import annotations

import torch

from .backend import prepare_features, resolve_backend, resolve_tf32
from .torch_impl import TorchGram

__all__ = ["gram"]


def gram(
    features: torch.Tensor, *, backend: str = "auto", allow_tf32: bool | None = None
) -> torch.Tensor:
    """Gram matrix of each sample: ``(B, C, H, W)`` or ``(B, C, N)`` → ``(B, C, C)`` float32.

    ``G[b] = F[b] F[b]ᵀ / (C·N)`` with ``F[b]`` the ``(C, N = H·W)`` features of
    sample ``b``; the batch is never folded into the channels. Accumulated in
    float32 for float32/float16/bfloat16 input (fp16 features whose Gram
    exceeds 65504 stay finite); float64 input (torch backend) gives float64.
    Any strides are accepted. Differentiable with respect to ``features``; the
    gradient keeps the features' memory layout (channels-last stays channels-last).
    The Triton kernels add a split reduction with atomics (last-bit differences
    between runs on a GPU) except under ``torch.use_deterministic_algorithms(True)``,
    where the result is bit-identical run to run and exactly symmetric.

    ``backend``: ``"auto"`` (Triton for CUDA tensors when Triton imports,
    torch otherwise), ``"triton"`` or ``"torch"``. ``allow_tf32``: let the
    Triton kernels use tf32 tensor cores for float32 input; ``None`` follows
    ``torch.backends.cuda.matmul.allow_tf32``.
    """
    f = prepare_features(features)
    if resolve_backend(backend, f) == "torch":
        return TorchGram.apply(f)
    from .triton_impl import TritonGram  # lazy: importing gst_kernels never needs triton

    return TritonGram.apply(f, resolve_tf32(allow_tf32))
