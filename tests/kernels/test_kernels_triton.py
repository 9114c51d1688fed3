"""The Triton kernels against float64 oracles.

Without a GPU they run under Triton's interpreter (conftest sets
TRITON_INTERPRET=1), which checks indexing, masking, tiling, the split
reduction and the mirroring, but not tf32 or bf16 numerics (see test_kernels_gpu.py).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_helpers import (
    TRITON_DEVICE,
    gram64,
    record_launches,
    rel_err,
    requires_triton,
    split_sum_tol,
    style_grad64,
    style_loss64,
    style_target_grad64,
)

from gst_kernels import gram, multi_style_loss, style_loss

pytestmark = requires_triton
DEV = TRITON_DEVICE
TOL = 1e-5  # fp32 ieee products vs float64; tf32 is off (allow_tf32=False) in these tests


def _x(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, device=DEV).to(dtype)


@pytest.mark.parametrize(
    "shape",
    [(1, 1, 1), (1, 16, 16), (2, 37, 5, 7), (1, 70, 13, 11), (3, 20, 130)],
)
def test_gram_values(shape) -> None:
    x = _x(*shape)
    g = gram(x, backend="triton", allow_tf32=False)
    assert g.dtype == torch.float32 and g.shape == (shape[0], shape[1], shape[1])
    assert rel_err(g, gram64(x)) < TOL


@pytest.mark.parametrize(
    "cfg",
    [
        {"block_c": 16, "block_k": 16, "split": 1},  # several C-tiles, plain stores, mirrored
        {"block_c": 16, "block_k": 16, "split": 3},  # several C-tiles, atomics across K-splits
        {"block_c": 32, "block_k": 32, "split": 2},
        {"block_c": 64, "block_k": 64, "split": 1},  # one tile covering C, masked
    ],
)
def test_gram_configs(cfg) -> None:
    from gst_kernels.triton_impl import gram_config, launch_gram

    x = _x(2, 37, 83)  # neither C nor N a multiple of any block
    assert gram_config(x, **cfg)["split"] == cfg["split"]
    g = launch_gram(x, False, deterministic=False, **cfg)
    assert rel_err(g, gram64(x)) < TOL
    # On a GPU the K-splits add atomically in completion order, so G[i, j] and G[j, i]
    # may differ in the last bits (the interpreter adds in grid order and cannot show it).
    assert ((g - g.transpose(1, 2)).abs().double() <= split_sum_tol(x, cfg["split"])).all()
    # Deterministic mode sums the splits in a fixed order: mirrored bit for bit, any split.
    gd = launch_gram(x, False, deterministic=True, **cfg)
    assert torch.equal(gd, gd.transpose(1, 2))
    assert rel_err(gd, gram64(x)) < TOL


def test_gram_noncontiguous() -> None:
    base = _x(2, 40, 9, 12)
    for x in (
        base.permute(0, 1, 3, 2),
        base[:, 3::2],
        base[..., ::3],
        base.contiguous(memory_format=torch.channels_last),
        base.flatten(2)
        .transpose(0, 1)
        .contiguous()
        .transpose(0, 1),  # batch stride < channel stride
    ):
        assert rel_err(gram(x, backend="triton", allow_tf32=False), gram64(x)) < TOL


def test_gram_backward() -> None:
    x = _x(2, 37, 6, 9).requires_grad_()
    w = torch.randn(2, 37, 37, device=DEV)  # non-symmetric upstream gradient
    (gram(x, backend="triton", allow_tf32=False) * w).sum().backward()
    f = x.detach().double().flatten(2)
    want = torch.matmul(w.double() + w.double().transpose(1, 2), f) / (37 * 54)
    assert rel_err(x.grad.flatten(2), want) < TOL


@pytest.mark.parametrize("target_batched", [False, True])
@pytest.mark.parametrize("shape", [(2, 37, 5, 7), (1, 70, 130)])
def test_style_loss_values_and_grads(shape, target_batched: bool) -> None:
    b, c = shape[:2]
    x = _x(*shape)
    t = torch.randn(b, c, c, device=DEV) if target_batched else torch.randn(c, c, device=DEV)
    t = t * 1e-2 + gram64(x).float().mean(0)  # near the answer, as in style transfer
    xg, tg = x.clone().requires_grad_(), t.clone().requires_grad_()
    loss = style_loss(xg, tg, backend="triton", allow_tf32=False)
    loss.backward()
    assert loss.dtype == torch.float32 and loss.shape == ()
    assert loss.item() == pytest.approx(style_loss64(x, t).item(), rel=1e-4)
    assert rel_err(xg.grad, style_grad64(x, t)) < 1e-4
    assert rel_err(tg.grad, style_target_grad64(x, t)) < 1e-4


def test_forward_only_fused_loss_writes_no_gram() -> None:
    from gst_kernels.triton_impl import gram_config, launch_gram

    x = _x(2, 37, 7, 9)  # N = 63 < one K-block: unsplit, so the fused kernel runs
    t = torch.randn(37, 37, device=DEV)
    assert gram_config(x.flatten(2))["split"] == 1
    with torch.no_grad():
        loss = style_loss(x, t, backend="triton", allow_tf32=False)
    assert loss.item() == pytest.approx(style_loss64(x, t).item(), rel=1e-5)
    # directly, with several C-tiles so the mirrored half of T is read too
    slots = torch.full((2 * 6,), float("nan"), device=DEV)  # 3 C-tiles: 6 tile pairs × 2 samples
    tb = torch.randn(2, 37, 37, device=DEV)
    assert (
        launch_gram(
            x.flatten(2), False, target=tb, loss=slots, loss_weight=1.0, block_c=16, split=1
        )
        is None
    )
    want = ((gram64(x) - tb.double()) ** 2).sum().item()
    assert slots.sum().item() == pytest.approx(want, rel=1e-5)  # every program wrote its slot
    with pytest.raises(ValueError, match="loss slots"):
        launch_gram(x.flatten(2), False, target=tb, loss=slots[:5], block_c=16, split=1)


def test_fp16_inputs_and_overflow() -> None:
    x = _x(2, 24, 9, 9, dtype=torch.float16)
    assert rel_err(gram(x, backend="triton"), gram64(x)) < TOL
    big = torch.full((1, 16, 8, 8), 40.0, device=DEV, dtype=torch.float16)
    big[0, ::3] = -40.0
    t = torch.zeros(16, 16, device=DEV)
    xg = big.clone().requires_grad_()
    loss = style_loss(xg, t, backend="triton")
    loss.backward()
    # every F·Fᵀ entry is ±40²·64 = ±102400 (> 65504, the fp16 maximum); / (C·N = 1024) = ±100
    assert loss.item() == pytest.approx(100.0**2, rel=1e-6)
    assert torch.isfinite(xg.grad).all() and xg.grad.dtype == torch.float16
    assert rel_err(xg.grad, style_grad64(big, t)) < 1e-3


def test_multi_style_loss_matches() -> None:
    xs = [_x(2, 16, 9, 9), _x(2, 37, 5, 5), _x(2, 70, 3, 2)]
    ts = [
        torch.randn(16, 16, device=DEV),
        torch.randn(2, 37, 37, device=DEV),
        torch.randn(70, 70, device=DEV),
    ]
    ws = [1.0, 0.25, 4.0]
    xgs = [x.clone().requires_grad_() for x in xs]
    loss = multi_style_loss(xgs, ts, ws, backend="triton", allow_tf32=False)
    (loss * 3.0).backward()  # a non-unit upstream gradient reaches every layer
    want = sum(w * style_loss64(x, t) for w, x, t in zip(ws, xs, ts, strict=True))
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    for w, x, t, xg in zip(ws, xs, ts, xgs, strict=True):
        assert rel_err(xg.grad, 3.0 * w * style_grad64(x, t)) < 1e-4
    with torch.no_grad():  # forward-only: the fused path for unsplit layers
        again = multi_style_loss(xs, ts, ws, backend="triton", allow_tf32=False)
    assert again.item() == pytest.approx(want.item(), rel=1e-5)


def test_allow_tf32_is_accepted() -> None:
    x = _x(1, 32, 40)
    g = gram(x, backend="triton", allow_tf32=True)
    assert rel_err(g, gram64(x)) < 1e-2  # tf32 keeps 10 mantissa bits; exact under the interpreter


@settings(max_examples=12, deadline=None)
@given(
    b=st.integers(1, 2),
    c=st.integers(1, 40),
    n=st.integers(1, 150),
    batched=st.booleans(),
    half=st.booleans(),
)
def test_property_style_loss(b: int, c: int, n: int, batched: bool, half: bool) -> None:
    torch.manual_seed(b * 1000 + c * 10 + n)
    x = _x(b, c, n, dtype=torch.float16 if half else torch.float32)
    t = torch.randn(b, c, c, device=DEV) if batched else torch.randn(c, c, device=DEV)
    xg = x.clone().requires_grad_()
    loss = style_loss(xg, t, backend="triton", allow_tf32=False)
    loss.backward()
    assert loss.item() == pytest.approx(style_loss64(x, t).item(), rel=1e-4, abs=1e-9)
    want = style_grad64(x, t)
    if half:
        # the gradient comes back in fp16, often subnormal here (|dF| ~ 1e-6): compare with
        # the exact gradient rounded to fp16, allowing two fp16 ulps
        torch.testing.assert_close(
            xg.grad.double(), want.half().double(), rtol=2e-3, atol=2 * 2.0**-24
        )
    else:
        assert rel_err(xg.grad, want) < 1e-4


@pytest.mark.parametrize("op", ["style_loss", "multi_style_loss"])
def test_loss_result_can_be_modified_in_place(op: str) -> None:
    """Like the torch backend's result: ``loss += x`` works and the gradient is unchanged."""
    x = _x(2, 37, 5, 7)
    t = torch.randn(37, 37, device=DEV)
    xg = x.clone().requires_grad_()
    if op == "style_loss":
        loss = style_loss(xg, t, backend="triton", allow_tf32=False)
    else:
        loss = multi_style_loss([xg], [t], backend="triton", allow_tf32=False)
    want = style_loss64(x, t).item()
    loss += 1.0
    loss *= 2.0
    loss.backward()
    assert loss.item() == pytest.approx(2.0 * (want + 1.0), rel=1e-5)
    assert rel_err(xg.grad, 2.0 * style_grad64(x, t)) < 1e-4


def test_batch_beyond_grid_axis_limit_launches_on_a_flat_axis(monkeypatch) -> None:
    """A Gram per image patch (B > 65535): grid axes 1 and 2 stop at 65535 on a GPU."""
    from gst_kernels import triton_impl as ti

    launches = record_launches(monkeypatch)
    b = 70_000
    f = torch.zeros(b, 2, 4, device=DEV)
    ti.launch_gram(f, False)
    ti.launch_sym_matmul(torch.zeros(b, 2, 2, device=DEV), f, 1.0, False)
    assert {name for name, _, _ in launches} == {"_gram_kernel", "_sym_matmul_kernel"}
    for name, grid, _ in launches:
        assert all(g <= 65535 for g in grid[1:]), (name, grid)
        assert grid[0] < 2**31 and grid[0] >= b, (name, grid)


def test_flat_batch_axis_values() -> None:
    """Several samples and tiles on the flattened axis land in the right place."""
    x = _x(5, 37, 40)
    g = gram(x, backend="triton", allow_tf32=False)
    assert rel_err(g, gram64(x)) < TOL
    xg = x.clone().requires_grad_()
    t = torch.randn(5, 37, 37, device=DEV)
    style_loss(xg, t, backend="triton", allow_tf32=False).backward()
    assert rel_err(xg.grad, style_grad64(x, t)) < 1e-4


@pytest.mark.parametrize(
    ("shape", "channels_last", "want"),
    [
        ((1, 64, 5800, 5800), False, True),  # C·H·W ≥ 2³¹ in one sample
        ((1, 64, 5800, 5800), True, True),
        ((1, 64, 5700, 5700), False, False),  # just below: int32 offsets, cheaper
        ((4, 64, 4096, 4096), False, False),  # the batch offset is int64 anyway
        ((1, 64 * 4096, 128, 128), False, True),  # a batch folded into the channels
    ],
)
def test_launchers_use_64_bit_offsets_where_a_sample_reaches_2_31(
    monkeypatch, shape, channels_last: bool, want: bool
) -> None:
    """Meta tensors: the launchers see the real strides without allocating 2³¹ elements."""
    from gst_kernels import triton_impl as ti

    launches = record_launches(monkeypatch)
    x = torch.empty(*shape, device="meta")
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    f = x.flatten(2)
    ti.launch_gram(f, False)
    ti.launch_sym_matmul(torch.empty(shape[0], shape[1], shape[1], device="meta"), f, 1.0, False)
    kinds = {name: kw["INT64"] for name, _, kw in launches if name != "_combine_kernel"}
    assert kinds == {"_gram_kernel": want, "_sym_matmul_kernel": want}
