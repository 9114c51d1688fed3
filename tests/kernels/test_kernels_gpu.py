"""GPU-only checks: what Triton's interpreter cannot show (tf32, bf16, real launch limits, memory).

Skipped without a CUDA GPU. benchmarks/gpu_run.sh runs them on an H100.
"""

from __future__ import annotations

import pytest
import torch
from kernel_helpers import (
    deterministic,
    gram64,
    rel_err,
    requires_gpu,
    split_sum_tol,
    style_grad64,
    style_loss64,
)

from gst_kernels import gram, multi_style_loss, style_loss

pytestmark = requires_gpu

# VGG19 style layers (relu1_1 … relu5_1) for a square image of side s
VGG = [(64, 1), (128, 2), (256, 4), (512, 8), (512, 16)]


def _layers(b: int, s: int, dtype: torch.dtype) -> list[torch.Tensor]:
    # post-ReLU features are non-negative
    return [torch.rand(b, c, s // d, s // d, device="cuda").to(dtype) for c, d in VGG]


@pytest.mark.parametrize("s", [256, 512])
def test_gram_large_fp32_ieee_and_tf32(s: int) -> None:
    for x in _layers(2, s, torch.float32):
        want = gram64(x)
        assert rel_err(gram(x, backend="triton", allow_tf32=False), want) < 1e-5
        # tf32 rounds the inputs to 10 mantissa bits: relative error ~1e-3 on a positive Gram
        assert rel_err(gram(x, backend="triton", allow_tf32=True), want) < 5e-3


def test_allow_tf32_none_follows_torch_flag() -> None:
    # At C = 64, 128² the launcher splits the reduction many ways and the splits add
    # atomically in completion order; deterministic mode makes two runs comparable bit
    # for bit (test_gram_runs_agree_within_the_split_bound covers the default mode).
    x = torch.rand(1, 64, 128, 128, device="cuda")
    old = torch.backends.cuda.matmul.allow_tf32
    try:
        with deterministic():
            torch.backends.cuda.matmul.allow_tf32 = False
            want = gram(x, backend="triton", allow_tf32=False)
            assert torch.equal(gram(x, backend="triton"), want)
            torch.backends.cuda.matmul.allow_tf32 = True
            want = gram(x, backend="triton", allow_tf32=True)
            assert torch.equal(gram(x, backend="triton"), want)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old


@pytest.mark.parametrize("shape", [(1, 64, 128, 128), (4, 512, 32, 32), (2, 100, 57, 61)])
def test_gram_runs_agree_within_the_split_bound(shape) -> None:
    """Default mode: atomics add in completion order, so runs and mirror entries may differ
    in the last bits, by no more than the rounding of the split sum; deterministic mode:
    bit-identical runs and an exactly symmetric Gram."""
    from gst_kernels.triton_impl import gram_config

    x = torch.rand(*shape, device="cuda")
    splits = gram_config(x.flatten(2))["split"]
    tol = split_sum_tol(x, splits)
    runs = [gram(x, backend="triton", allow_tf32=False) for _ in range(3)]
    for g in runs:
        assert ((g - runs[0]).abs().double() <= tol).all()
        assert ((g - g.transpose(1, 2)).abs().double() <= tol).all()
    with deterministic():
        det = [gram(x, backend="triton", allow_tf32=False) for _ in range(3)]
        xs = [torch.rand(b, c, 16, 16, device="cuda") for b, c in ((2, 64), (1, 512))]
        ts = [torch.rand(x.shape[1], x.shape[1], device="cuda") for x in xs]
        losses = [multi_style_loss(xs, ts, backend="triton") for _ in range(3)]
    assert all(torch.equal(g, det[0]) for g in det)
    assert torch.equal(det[0], det[0].transpose(1, 2))
    assert ((det[0] - runs[0]).abs().double() <= tol).all()
    assert all(torch.equal(loss, losses[0]) for loss in losses)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_large(dtype: torch.dtype) -> None:
    xs = _layers(2, 256, dtype)
    ts = [gram64(x).float() * 0.9 for x in xs]
    xgs = [x.clone().requires_grad_() for x in xs]
    loss = multi_style_loss(xgs, ts, backend="triton")
    loss.backward()
    want = sum(style_loss64(x, t) for x, t in zip(xs, ts, strict=True))
    assert loss.item() == pytest.approx(
        want.item(), rel=1e-3
    )  # products of the rounded inputs are exact
    for x, t, xg in zip(xs, ts, xgs, strict=True):
        assert xg.grad.dtype == dtype
        assert rel_err(xg.grad, style_grad64(x, t)) < 2e-2  # gradient rounded to the input dtype


def test_fp16_overflow_on_gpu() -> None:
    x = torch.full(
        (1, 64, 64, 64), 30.0, device="cuda", dtype=torch.float16
    )  # F·Fᵀ = 900·4096 ≫ 65504
    t = torch.zeros(64, 64, device="cuda")
    loss = style_loss(x, t, backend="triton")
    assert torch.isfinite(loss) and loss.item() == pytest.approx((900.0 / 64) ** 2, rel=1e-5)


def test_style_loss_large_batch4_grads() -> None:
    xs = _layers(4, 512, torch.float32)
    ts = [gram64(x[:1])[0].float() for x in xs]
    for x, t in zip(xs, ts, strict=True):
        xg = x.clone().requires_grad_()
        loss = style_loss(xg, t, backend="triton", allow_tf32=False)
        loss.backward()
        assert loss.item() == pytest.approx(style_loss64(x, t).item(), rel=1e-4)
        assert rel_err(xg.grad, style_grad64(x, t)) < 1e-4


def test_fused_loss_peak_memory_not_above_eager() -> None:
    xs = [x.requires_grad_() for x in _layers(4, 512, torch.float32)]
    ts = [torch.rand(x.shape[1], x.shape[1], device="cuda") for x in xs]

    def peak(fn) -> int:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn().backward()
        torch.cuda.synchronize()
        for x in xs:
            x.grad = None
        return torch.cuda.max_memory_allocated() - base

    def eager():
        loss = 0.0
        for x, t in zip(xs, ts, strict=True):
            f = x.flatten(2)
            g = torch.bmm(f, f.transpose(1, 2)) / f[0].numel()
            loss = loss + torch.nn.functional.mse_loss(g, t.expand_as(g))
        return loss

    peak(eager)  # warm-up (cuBLAS workspace, Triton compilation)
    peak(lambda: multi_style_loss(xs, ts, backend="triton"))
    assert peak(lambda: multi_style_loss(xs, ts, backend="triton")) <= peak(eager)


def test_gram_per_patch_batch_beyond_65535() -> None:
    """B > 65535 (a Gram per image patch) launches: the batch is on the flat grid axis 0."""
    x = torch.rand(70_000, 2, 4, 4, device="cuda")
    xg = x.clone().requires_grad_()
    g = gram(xg, backend="triton", allow_tf32=False)
    assert rel_err(g, gram64(x)) < 1e-5
    g.sum().backward()
    f = x.double().flatten(2)
    want = 2 * f.sum(1, keepdim=True).expand_as(f) / (2 * 16)
    assert rel_err(xg.grad.flatten(2), want) < 1e-5


def test_offsets_beyond_2_31_within_one_sample() -> None:
    """64 fp16 channels at 5800²: C·H·W ≥ 2³¹, so int32 offsets would wrap (4.3 GB input)."""
    c, s = 64, 5800
    x = torch.arange(1, c + 1, device="cuda", dtype=torch.float16)[None, :, None, None]
    x = x.expand(1, c, s, s).contiguous()  # channel i holds i + 1 everywhere
    xg = x.requires_grad_()
    g = gram(xg, backend="triton", allow_tf32=False)
    idx = torch.arange(1, c + 1, device="cuda", dtype=torch.float64)
    # fp32 sums of ~10⁵ integers per split: ≪ 1e-3; wrapped offsets read garbage or fault
    assert rel_err(g[0], idx[:, None] * idx[None, :] / c) < 1e-3
    # dF = (dG + dGᵀ)·F/(C·N) with dG = C·N everywhere: 2·Σ_j (j + 1) = C·(C + 1) = 4160
    (g * float(c * s * s)).sum().backward()
    assert bool((xg.grad == c * (c + 1)).all())
