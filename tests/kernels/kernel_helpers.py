"""Independent float64 oracles and skip markers for the kernel tests.

The oracles use no gst_kernels code, so a bug shared by the reference and
the fast paths still fails the tests.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

HAS_TRITON = importlib.util.find_spec("triton") is not None
ON_GPU = torch.cuda.is_available()
# Triton-backend tests run on the GPU when there is one, else under the interpreter on CPU.
TRITON_DEVICE = "cuda" if ON_GPU else "cpu"

requires_triton = pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
requires_gpu = pytest.mark.skipif(
    not (ON_GPU and HAS_TRITON),
    reason="needs a CUDA GPU with triton: tf32, bf16 and large shapes are not emulated by the interpreter",
)


def gram64(x: torch.Tensor) -> torch.Tensor:
    """Per-sample Gram of (B, C, ...) in float64 via einsum."""
    f = x.detach().double().reshape(x.shape[0], x.shape[1], -1)
    return torch.einsum("bcn,bdn->bcd", f, f) / (f.shape[1] * f.shape[2])


def style_loss64(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return ((gram64(x) - t.detach().double()) ** 2).mean()


def style_grad64(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """d style_loss / d x in float64, from the closed form 2/(B·C²)·(D + Dᵀ)·F/(C·N)."""
    b, c = x.shape[:2]
    f = x.detach().double().reshape(b, c, -1)
    n = f.shape[2]
    d = gram64(x) - t.detach().double()
    return (torch.matmul(d + d.transpose(-1, -2), f) * (2.0 / (b * c * c) / (c * n))).reshape(
        x.shape
    )


def style_target_grad64(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """d style_loss / d target in float64 (summed over the batch for a (C, C) target)."""
    b, c = x.shape[:2]
    g = -2.0 * (gram64(x) - t.detach().double()) / (b * c * c)
    return g.sum(0) if t.dim() == 2 else g


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a − b| relative to max |b| (both in float64)."""
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))
