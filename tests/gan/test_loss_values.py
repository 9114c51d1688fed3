"""Loss formulas against values worked out by hand, and the penalties against plain autograd."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gst_core.kinds import losses

R = torch.tensor([2.0, -1.0])
F = torch.tensor([0.5, -3.0])


def sp(x: float) -> float:  # softplus
    return math.log1p(math.exp(x))


HAND = {
    # name: (discriminator loss, generator loss) at R, F
    "minimax": ((sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2, -(sp(0.5) + sp(-3)) / 2),
    "non_saturating": ((sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2, (sp(-0.5) + sp(3)) / 2),
    "lsgan": (0.5 * ((1 + 4) / 2 + (0.25 + 9) / 2), 0.5 * (0.25 + 16) / 2),
    "hinge": ((0 + 2) / 2 + (1.5 + 0) / 2, -(0.5 - 3) / 2),
    "wasserstein": ((0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_loss_matches_hand_computation(name):
    loss = losses.build(name)
    d, g = HAND[name]
    assert loss.discriminator_loss(R, F).item() == pytest.approx(d, rel=1e-6)
    assert loss.generator_loss(F).item() == pytest.approx(g, rel=1e-6)


def test_wasserstein_drift():
    loss = losses.build("wasserstein", drift=0.1)
    expected = (0.5 - 3) / 2 - (2 - 1) / 2 + 0.1 * (4 + 1) / 2
    assert loss.discriminator_loss(R, F).item() == pytest.approx(expected)


class Quadratic(nn.Module):
    """D(x) = Σ w·x², whose input gradient 2w·x is known in closed form."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.7))

    def forward(self, x, labels=None):
        return (self.w * x.pow(2)).flatten(1).sum(1)


def test_r1_against_closed_form():
    real = torch.randn(5, 2, 3, 3, dtype=torch.float64)
    disc = Quadratic().double()
    value = losses.build("r1", weight=4.0)(disc, real, real)
    expected = 0.5 * 4.0 * (2 * disc.w.detach() * real).pow(2).flatten(1).sum(1).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-10)


def test_gradient_penalty_against_independent_autograd():
    torch.manual_seed(1)
    disc = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1)).double()

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = disc

        def forward(self, x, labels=None):
            return self.net(x).flatten()

    real = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    fake = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    torch.manual_seed(7)
    value = losses.build("gradient_penalty", weight=10.0)(Wrapped(), real, fake)

    # Independent computation: same ε draw, per-sample Jacobian via torch.func.
    torch.manual_seed(7)
    eps = torch.rand(4, 1, 1, 1).double()
    mixed = eps * real + (1 - eps) * fake
    grads = torch.func.vmap(torch.func.grad(lambda x: disc(x[None]).sum()))(mixed)
    expected = 10.0 * ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-9)

    # and the penalty is trainable: it has a gradient with respect to D's weights
    value.backward()
    assert disc[1].weight.grad is not None and disc[1].weight.grad.abs().sum() > 0
