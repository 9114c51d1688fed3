"""Both backends return feature gradients in the features' own memory layout.

A leaf's ``.grad`` is re-laid out by AccumulateGrad (the very copy this avoids), so the
tests look at the gradient the op returns, through a tensor hook.
"""

from __future__ import annotations

import pytest
import torch
from kernel_helpers import TRITON_DEVICE, rel_err, requires_triton, style_grad64

from gst_kernels import gram, style_loss


@pytest.mark.parametrize("batch", [1, 3])
def test_channels_last_gradient_is_channels_last_and_correct(batch):
    torch.manual_seed(0)
    x = torch.randn(batch, 5, 7, 6).to(memory_format=torch.channels_last).requires_grad_()
    t = torch.randn(5, 5)
    seen: list[torch.Tensor] = []
    x.register_hook(seen.append)
    style_loss(x, t, backend="torch").backward()
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
    assert rel_err(seen[0], style_grad64(x, t)) < 1e-5


def test_gram_gradient_of_contiguous_features_stays_contiguous():
    x = torch.randn(2, 4, 3, 5, requires_grad=True)
    gram(x, backend="torch").sum().backward()
    assert x.grad.is_contiguous()
    # d/dF of sum(F Fᵀ)/(C·N) = 2·(1 1ᵀ)·F/(C·N): every row gets 2·(column sums)/(C·N)
    f = x.detach().reshape(2, 4, 15)
    expected = (2 * f.sum(1, keepdim=True).expand(2, 4, 15) / (4 * 15)).reshape(2, 4, 3, 5)
    assert torch.allclose(x.grad, expected, atol=1e-6)


@requires_triton
@pytest.mark.parametrize("op", ["gram", "style_loss"])
def test_triton_gradient_keeps_the_features_layout(op: str) -> None:
    """A channels-last network gets a channels-last gradient: no feature-sized copy per step."""
    torch.manual_seed(0)
    x = torch.randn(2, 20, 7, 6, device=TRITON_DEVICE).to(memory_format=torch.channels_last)
    xg = x.clone().requires_grad_()
    # the gradient as the op returns it: a leaf's .grad is re-laid out by AccumulateGrad
    # (the copy this avoids), so look at it before that
    seen: list[torch.Tensor] = []
    xg.register_hook(seen.append)
    t = torch.randn(20, 20, device=TRITON_DEVICE)
    if op == "gram":
        (gram(xg, backend="triton", allow_tf32=False) * t).sum().backward()
        f = x.detach().double().flatten(2)
        want = (torch.matmul(t.double() + t.double().t(), f) / (20 * 42)).reshape(x.shape)
    else:
        style_loss(xg, t, backend="triton", allow_tf32=False).backward()
        want = style_grad64(x, t)
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
    assert rel_err(seen[0], want) < 1e-4
    # contiguous features still get a contiguous gradient
    xc = x.contiguous().requires_grad_()
    xc.register_hook(seen.append)
    style_loss(xc, t, backend="triton", allow_tf32=False).backward()
    assert seen[1].is_contiguous()
