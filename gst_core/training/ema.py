"""Exponential moving averages of network weights, via ``torch.optim.swa_utils``.

Sampling from an EMA of the generator's weights gives visibly cleaner images
than the last iterate (Yazıcı et al. 2019; BigGAN, StyleGAN). Buffers
(BatchNorm statistics, spectral-norm vectors) are copied from the live
network rather than averaged.
"""

from __future__ import annotations

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

__all__ = ["make_ema"]


def make_ema(network: nn.Module, decay: float) -> AveragedModel:
    """An EMA copy of ``network``; call ``.update_parameters(network)`` after each step and
    use ``.module`` to sample. The first update copies the weights."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema_decay must lie in [0, 1), got {decay!r} (0.999 is typical)")
    ema = AveragedModel(network, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)
    ema.requires_grad_(False)
    return ema
