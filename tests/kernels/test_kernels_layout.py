"""The torch path returns feature gradients in the features' own memory layout."""

from __future__ import annotations

import pytest
import torch
from kernel_helpers import rel_err, style_grad64

from gst_kernels import gram, style_loss


@pytest.mark.parametrize("batch", [1, 3])
def test_channels_last_gradient_is_channels_last_and_correct(batch):
    torch.manual_seed(0)
    x = torch.randn(batch, 5, 7, 6).to(memory_format=torch.channels_last).requires_grad_()
    t = torch.randn(5, 5)
    style_loss(x, t, backend="torch").backward()
    assert x.grad.is_contiguous(memory_format=torch.channels_last)
    assert rel_err(x.grad, style_grad64(x, t)) < 1e-5


def test_gram_gradient_of_contiguous_features_stays_contiguous():
    x = torch.randn(2, 4, 3, 5, requires_grad=True)
    gram(x, backend="torch").sum().backward()
    assert x.grad.is_contiguous()
    # d/dF of sum(F Fᵀ)/(C·N) = 2·(1 1ᵀ)·F/(C·N): every row gets 2·(column sums)/(C·N)
    f = x.detach().reshape(2, 4, 15)
    expected = (2 * f.sum(1, keepdim=True).expand(2, 4, 15) / (4 * 15)).reshape(2, 4, 3, 5)
    assert torch.allclose(x.grad, expected, atol=1e-6)
