"""The EMA of weights: first update copies, then a warmed-up exponential average."""

from __future__ import annotations

import torch
from torch import nn

from gst_core.training.ema import make_ema


def test_ema_follows_the_warmed_up_formula():
    net = nn.Linear(3, 2)
    ema = make_ema(net, decay=0.9)
    expected = None
    for n in range(6):
        with torch.no_grad():
            net.weight.fill_(float(n))
        ema.update_parameters(net)
        if expected is None:
            expected = torch.full_like(net.weight, float(n))  # first update: a copy
        else:
            decay = min(0.9, (1 + n) / (10 + n))  # n updates so far
            expected = decay * expected + (1 - decay) * n
        assert torch.allclose(ema.module.weight, expected)
    assert not any(p.requires_grad for p in ema.parameters())
