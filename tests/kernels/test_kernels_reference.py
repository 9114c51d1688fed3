"""The plain-torch reference and the fast torch path against hand-computed values and float64 oracles."""

from __future__ import annotations

import pytest
import torch
from kernel_helpers import gram64, rel_err, style_grad64, style_loss64, style_target_grad64

from gst_kernels import gram, gram_reference, multi_style_loss, style_loss, style_loss_reference


def test_gram_hand_computed() -> None:
    # one sample, C=2, N=2: F Fᵀ = [[1·1+2·2, 1·3+2·4], [.., 3·3+4·4]] = [[5, 11], [11, 25]], / (C·N = 4)
    f = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    want = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    torch.testing.assert_close(gram_reference(f), want)
    torch.testing.assert_close(gram(f, backend="torch"), want)
    # (B, C, H, W) = (1, 2, 1, 2) is the same features
    torch.testing.assert_close(gram(f.reshape(1, 2, 1, 2), backend="torch"), want)


def test_style_loss_hand_computed() -> None:
    f = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    t = torch.tensor([[1.0, 3.0], [2.0, 6.0]])  # non-symmetric on purpose
    # G = [[1.25, 2.75], [2.75, 6.25]]; G - T = [[.25, -.25], [.75, .25]]; mean of squares = 0.75/4
    assert style_loss_reference(f, t).item() == pytest.approx(0.1875)
    assert style_loss(f, t, backend="torch").item() == pytest.approx(0.1875)


def test_batch_is_not_folded_into_channels() -> None:
    x = torch.randn(3, 4, 5, 6)
    g = gram(x, backend="torch")
    assert g.shape == (3, 4, 4)
    for b in range(3):
        torch.testing.assert_close(g[b], gram(x[b : b + 1], backend="torch")[0])


@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (3, 7, 11), (2, 17, 3, 9)])
@pytest.mark.parametrize("fn", [gram, gram_reference])
def test_gram_matches_float64(fn, shape) -> None:
    x = torch.randn(*shape)
    g = fn(x) if fn is gram_reference else fn(x, backend="torch")
    assert g.dtype == torch.float32
    assert rel_err(g, gram64(x)) < 1e-5


def test_noncontiguous_inputs() -> None:
    base = torch.randn(2, 9, 10, 8)
    cases = [
        base.permute(0, 1, 3, 2),  # transposed H/W: reshape must copy
        base[:, ::2],  # strided channels
        base[..., ::3],  # strided W
        base.contiguous(memory_format=torch.channels_last),  # C innermost
    ]
    t = torch.randn(base[:, ::2].shape[1], base[:, ::2].shape[1])
    for x in cases:
        assert rel_err(gram(x, backend="torch"), gram64(x)) < 1e-5
    x = cases[1]
    assert style_loss(x, t, backend="torch").item() == pytest.approx(
        style_loss64(x, t).item(), rel=1e-5
    )


@pytest.mark.parametrize("target_batched", [False, True])
def test_style_loss_grads_match_closed_form(target_batched: bool) -> None:
    x = torch.randn(2, 6, 5, 7)
    t = torch.randn(2, 6, 6) if target_batched else torch.randn(6, 6)
    xg, tg = x.clone().requires_grad_(), t.clone().requires_grad_()
    loss = style_loss(xg, tg, backend="torch")
    loss.backward()
    assert loss.item() == pytest.approx(style_loss64(x, t).item(), rel=1e-5)
    assert rel_err(xg.grad, style_grad64(x, t)) < 1e-5
    assert rel_err(tg.grad, style_target_grad64(x, t)) < 1e-5


def test_gradcheck_float64() -> None:
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    t2 = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    t3 = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: gram(a, backend="torch"), (x,))
    assert torch.autograd.gradcheck(lambda a, b: style_loss(a, b, backend="torch"), (x, t2))
    assert torch.autograd.gradcheck(lambda a, b: style_loss(a, b, backend="torch"), (x, t3))
    y = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    t5 = torch.randn(5, 5, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda a, b: multi_style_loss([a, b], [t2, t5], [0.3, 2.0], backend="torch"), (x, y)
    )
    # the reference is differentiable by autograd, twice
    assert torch.autograd.gradgradcheck(lambda a: style_loss_reference(a, t2), (x,))


def test_fp16_overflow_gives_finite_correct_loss() -> None:
    # values of 40 over N=64: F Fᵀ entries ≈ 40²·64 = 102400 > 65504 (fp16 max), so an
    # fp16 mm overflows to inf; gst accumulates in float32 before dividing by C·N.
    x = torch.full((1, 4, 8, 8), 40.0).half()
    x[0, 1] = -40.0
    naive = torch.bmm(x.flatten(2), x.flatten(2).transpose(1, 2))
    assert not torch.isfinite(naive).all()  # the failure gst guards against
    t = torch.zeros(4, 4)
    want = style_loss64(x, t).item()  # G entries are ±1600/4 = ±400; loss = 400² = 160000
    assert want == pytest.approx(160000.0)
    xg = x.clone().requires_grad_()
    loss = style_loss(xg, t, backend="torch")
    loss.backward()
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(want, rel=1e-6)
    assert torch.isfinite(xg.grad).all() and xg.grad.dtype == torch.float16
    assert rel_err(xg.grad, style_grad64(x, t)) < 1e-3


def test_half_inputs_return_float32() -> None:
    x = torch.randn(2, 5, 6, 6)
    for dt in (torch.float16, torch.bfloat16):
        g = gram(x.to(dt), backend="torch")
        assert g.dtype == torch.float32
        assert rel_err(g, gram64(x.to(dt))) < 1e-5  # exact products of the rounded inputs


def test_multi_style_loss_is_weighted_sum() -> None:
    xs = [torch.randn(2, 4, 6, 6), torch.randn(2, 8, 3, 3), torch.randn(2, 16, 2, 2)]
    ts = [torch.randn(4, 4), torch.randn(2, 8, 8), torch.randn(16, 16)]
    ws = [1.0, 0.5, 3.0]
    want = sum(w * style_loss64(x, t) for w, x, t in zip(ws, xs, ts, strict=True))
    got = multi_style_loss(xs, ts, ws, backend="torch")
    assert got.item() == pytest.approx(want.item(), rel=1e-5)
    unweighted = sum(style_loss64(x, t) for x, t in zip(xs, ts, strict=True))
    assert multi_style_loss(xs, ts, backend="torch").item() == pytest.approx(
        unweighted.item(), rel=1e-5
    )


def test_auto_uses_torch_on_cpu_and_matches() -> None:
    x, t = torch.randn(1, 5, 4, 4), torch.randn(5, 5)
    assert style_loss(x, t).item() == pytest.approx(style_loss64(x, t).item(), rel=1e-5)
