"""Fast plain-torch Gram and style loss: the CPU path (and the GPU path without Triton).

Two choices, both measured on the 2-core CPU (torch 2.13, fp32, forward+backward,
VGG19 relu1_1 at 256², C=64, N=65536; see docs/kernels.md for the full table):

* A hand-written backward. Autograd through ``bmm(F, Fᵀ)`` runs two products
  (``dG·F`` and ``dGᵀ·F``) and ``mse_loss`` keeps its own copies; the analytic
  ``dF = k·(D + Dᵀ)·F`` with ``D = G − T`` runs one. 47.8 ms → 11.4 ms.
* One ``mm`` per sample instead of ``bmm``: at batch 4 the forward takes 14.3 ms
  instead of 19.0 ms and forward+backward 32.8 ms instead of 49.8 ms.

The inputs are upcast to float32 (float64 stays float64), so half-precision
features never overflow. Only the original tensor is saved for backward
(the upcast copy is redone there), so a half-precision input costs no
float32 copy between forward and backward.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from .backend import accumulation_dtype

__all__ = ["TorchGram", "TorchStyleLoss", "gram_into", "sym_matmul"]


def gram_into(f: torch.Tensor) -> torch.Tensor:
    """``(B, C, N)`` → ``(B, C, C)`` Gram ``F Fᵀ / (C·N)`` per sample, in the accumulation dtype."""
    b, c, n = f.shape
    fa = f.to(accumulation_dtype(f.dtype))
    if f.is_cuda:  # one launch; the per-sample mm loop below is a CPU measurement
        return torch.bmm(fa, fa.transpose(1, 2)).div_(c * n)
    g = torch.empty(b, c, c, dtype=fa.dtype, device=f.device)
    for i in range(b):  # mm per sample: faster than bmm on CPU (see module docstring)
        torch.mm(fa[i], fa[i].t(), out=g[i])
    return g.div_(c * n)


def sym_matmul(s: torch.Tensor, f: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
    """``scale · (S + Sᵀ) · F`` per sample, in ``f``'s dtype: the gradient of every op here."""
    fa = f.to(accumulation_dtype(f.dtype))
    s = (s + s.transpose(1, 2)).mul_(scale)
    if f.is_cuda:
        return torch.bmm(s, fa).to(f.dtype)
    out = torch.empty_like(fa, memory_format=torch.contiguous_format)
    for i in range(f.shape[0]):
        torch.mm(s[i], fa[i], out=out[i])
    return out.to(f.dtype)


class TorchGram(torch.autograd.Function):
    """Gram with the one-product backward ``dF = (dG + dGᵀ)·F / (C·N)``."""

    @staticmethod
    def forward(ctx, f: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(f)
        return gram_into(f)

    @staticmethod
    @once_differentiable
    def backward(ctx, dg: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (f,) = ctx.saved_tensors
        _, c, n = f.shape
        return sym_matmul(dg, f, 1.0 / (c * n))


class TorchStyleLoss(torch.autograd.Function):
    """``mean((G − T)²)``; saves ``D = G − T`` (B·C·C values) and the input, nothing else."""

    @staticmethod
    def forward(ctx, f: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        d = gram_into(f)
        d.sub_(target.to(d.dtype))  # target (C, C) broadcasts over the batch
        loss = d.square().mean()
        ctx.target_shape = target.shape
        ctx.target_dtype = target.dtype
        ctx.save_for_backward(f, d)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        f, d = ctx.saved_tensors
        b, c, n = f.shape
        k = 2.0 / (b * c * c)  # d mean(D²) / dD
        df = dt = None
        if ctx.needs_input_grad[0]:
            # dL/dF = k · (D + Dᵀ) · F / (C·N): symmetrised because T need not be symmetric.
            df = sym_matmul(d, f, grad.to(d.dtype) * (k / (c * n)))
        if ctx.needs_input_grad[1]:
            dt = d * (-k * grad.to(d.dtype))
            if len(ctx.target_shape) == 2:
                dt = dt.sum(0)
            dt = dt.to(ctx.target_dtype)
        return df, dt
