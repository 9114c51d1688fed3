"""Independent float64 oracles and skip markers for the kernel tests.

The oracles use no gst_kernels code, so a bug shared by the reference and
the fast paths still fails the tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator

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


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for the block, then the previous setting."""
    old, old_warn = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old, warn_only=old_warn)


def split_sum_tol(x: torch.Tensor, splits: int) -> torch.Tensor:
    """Bound on how far two fp32 sums of the same ``splits`` partial Grams may differ.

    A split reduction adds ``splits`` partials ``P_s`` per entry, on a GPU with
    atomics in completion order. Any order gives ``|fl(Σ P_s) − Σ P_s| ≤ γ·Σ|P_s|``
    with ``γ = (splits − 1)·u / (1 − (splits − 1)·u)``, ``u = 2⁻²⁴``; and by
    Cauchy–Schwarz ``Σ_s |P_s[i, j]| ≤ ‖f_i‖·‖f_j‖/(C·N) = √(G_ii·G_jj)``. So two runs
    (or ``G[i, j]`` and its mirror ``G[j, i]``) differ by at most ``2γ·√(G_ii·G_jj)``,
    and by nothing when there is no split.
    """
    u = 2.0**-24
    k = (splits - 1) * u
    diag = torch.diagonal(gram64(x), dim1=1, dim2=2)
    return 2 * k / (1 - k) * torch.sqrt(diag[:, :, None] * diag[:, None, :])


def record_launches(monkeypatch, names=("_gram_kernel", "_sym_matmul_kernel", "_combine_kernel")):
    """Replace the Triton kernels by recorders: ``[(name, grid, constexprs), ...]``, nothing runs.

    For what the interpreter cannot show (grid limits) or cannot afford (2³¹ elements:
    meta tensors go through the launchers unchanged).
    """
    from gst_kernels import triton_impl as ti

    launches: list[tuple[str, tuple[int, ...], dict]] = []

    class Record:
        def __init__(self, name: str) -> None:
            self.name = name

        def __getitem__(self, grid):
            return lambda *args, **kw: launches.append((self.name, tuple(grid), kw))

    for name in names:
        monkeypatch.setattr(ti, name, Record(name))
    return launches
