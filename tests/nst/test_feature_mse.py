"""The content loss's mean squared error against float64 torch, in both memory layouts."""

from __future__ import annotations

import pytest
import torch

from gst_plugins.losses.feature_mse import feature_mse


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_value_and_gradients_match_float64(layout):
    torch.manual_seed(0)
    f = torch.randn(2, 5, 4, 3).to(memory_format=layout).requires_grad_()
    t = torch.randn(2, 5, 4, 3).to(memory_format=layout).requires_grad_()
    loss = feature_mse(f, t)
    loss.backward()
    d = f.detach().double() - t.detach().double()
    assert loss.item() == pytest.approx((d**2).mean().item(), rel=1e-6)
    assert torch.allclose(f.grad.double(), 2 * d / d.numel(), atol=1e-7)
    assert torch.allclose(t.grad.double(), -2 * d / d.numel(), atol=1e-7)
    assert f.grad.is_contiguous(memory_format=layout)


def test_gradcheck_float64():
    f = torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    t = torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(feature_mse, (f, t))


def test_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(
        ValueError,
        match=r"shape \(2, 3, 2, 2\) cannot be compared with a target of shape \(3, 2, 2\)",
    ):
        feature_mse(torch.ones(2, 3, 2, 2), torch.zeros(3, 2, 2))
