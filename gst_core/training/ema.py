"""Exponential moving averages of network weights, via ``torch.optim.swa_utils``.

Sampling from an EMA of the generator's weights gives visibly cleaner images
than the last iterate (Yazıcı et al. 2019; BigGAN, StyleGAN). Buffers
(BatchNorm statistics, spectral-norm vectors) are copied from the live
network rather than averaged.

The decay warms up as ``min(decay, (1 + n) / (10 + n))`` after ``n``
updates, as TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` does:
with a fixed 0.999 the average of a 500-step run would still be 60% the
random initial weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

__all__ = ["make_ema"]


def _ema_update(decay: float):
    @torch.no_grad()
    def update(averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        n = float(num_averaged)
        weight = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
        torch._foreach_lerp_(averaged, current, weight)

    return update


def make_ema(network: nn.Module, decay: float) -> AveragedModel:
    """An EMA copy of ``network``; call ``.update_parameters(network)`` after each step and
    use ``.module`` to sample. The first update copies the weights."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema_decay must lie in [0, 1), got {decay!r} (0.999 is typical)")
    ema = AveragedModel(network, multi_avg_fn=_ema_update(decay), use_buffers=False)
    ema.requires_grad_(False)
    return ema
