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

__all__ = ["TorchGram", "TorchMultiStyleLoss", "gram_into", "sym_matmul"]


def gram_into(f: torch.Tensor) -> torch.Tensor:
    """``(B, C, N)`` → ``(B, C, C)`` Gram ``F Fᵀ / (C·N)`` per sample, in the accumulation dtype."""
    b, c, n = f.shape
    fa = f.to(accumulation_dtype(f.dtype))
    if f.is_cuda:  # one launch; the per-sample loop below is a CPU measurement
        return torch.baddbmm(
            fa.new_empty(b, c, c), fa, fa.transpose(1, 2), beta=0, alpha=1.0 / (c * n)
        )
    g = torch.empty(b, c, c, dtype=fa.dtype, device=f.device)
    for i in range(b):  # mm per sample: faster than bmm on CPU (see module docstring)
        # the 1/(C·N) scale inside the GEMM: one op fewer than mm + div_; beta=0 ignores
        # the uninitialised g (NaNs included)
        g[i].addmm_(fa[i], fa[i].t(), beta=0, alpha=1.0 / (c * n))
    return g


def sym_matmul(s: torch.Tensor, f: torch.Tensor, scale: float | torch.Tensor) -> torch.Tensor:
    """``scale · (S + Sᵀ) · F`` per sample, in ``f``'s dtype: the gradient of every op here."""
    fa = f.to(accumulation_dtype(f.dtype))
    s = (s + s.transpose(1, 2)).mul_(scale)
    if f.is_cuda:
        return torch.bmm(s, fa).to(f.dtype)
    # The gradient takes the features' own layout (channels-last features give a
    # (C, N) slice with strides (1, C), which mm writes directly), so autograd never
    # converts layouts when it adds this to the gradient flowing from deeper layers:
    # conv+relu+style loss over two channels-last 64-channel layers at 256², forward
    # plus backward, went from 0.146–0.168 s to 0.119–0.145 s a step (2-core CPU).
    out = torch.empty_like(fa)
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


class TorchMultiStyleLoss(torch.autograd.Function):
    """``Σ_i w_i · mean((G_i − T_i)²)``; saves the inputs (no copies) and each ``D_i = G_i − T_i``.

    One function for one layer or many, like the Triton one: per layer a Gram
    GEMM, an in-place subtraction and a dot product added into one scalar, so
    the forward runs no more ops than eager ``bmm`` + ``mse_loss``.
    """

    @staticmethod
    def forward(ctx, weights: tuple[float, ...], *tensors: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        layers = len(weights)
        feats, targets = tensors[:layers], tensors[layers:]
        dtype = torch.float64 if any(f.dtype == torch.float64 for f in feats) else torch.float32
        loss = torch.zeros((), dtype=dtype, device=feats[0].device)
        diffs = []
        for f, t, w in zip(feats, targets, weights, strict=True):
            d = gram_into(f).sub_(t.to(accumulation_dtype(f.dtype)))  # (C, C) broadcasts
            dv = d.view(-1)
            loss.add_(torch.dot(dv, dv).to(dtype), alpha=w / dv.numel())
            diffs.append(d)
        ctx.weights = weights
        ctx.target_meta = [(t.shape, t.dtype) for t in targets]
        ctx.save_for_backward(*feats, *diffs)
        return loss

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        layers = len(ctx.weights)
        saved = ctx.saved_tensors
        dfs: list[torch.Tensor | None] = []
        dts: list[torch.Tensor | None] = []
        for i, (f, d, w) in enumerate(
            zip(saved[:layers], saved[layers:], ctx.weights, strict=True)
        ):
            b, c, n = f.shape
            k = 2.0 * w / (b * c * c)  # d(w·mean(D²))/dD
            g = grad.to(d.dtype)
            # dL/dF = k · (D + Dᵀ) · F / (C·N): symmetrised because T need not be symmetric
            dfs.append(sym_matmul(d, f, g * (k / (c * n))) if ctx.needs_input_grad[1 + i] else None)
            if ctx.needs_input_grad[1 + layers + i]:
                shape, dtype = ctx.target_meta[i]
                dt = d * (-k * g)
                dts.append((dt.sum(0) if len(shape) == 2 else dt).to(dtype))
            else:
                dts.append(None)
        return (None, *dfs, *dts)
