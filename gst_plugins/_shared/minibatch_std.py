"""The minibatch standard-deviation layer of ProGAN/StyleGAN (Karras et al. 2018).

It appends one feature map holding the average standard deviation of the features
across a small group of samples. A discriminator that sees it can tell a batch of
near-identical fakes from a varied batch of reals, which pushes a generator that is
collapsing onto a few modes back towards variety.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["MinibatchStdDev"]


class MinibatchStdDev(nn.Module):
    """``(N, C, H, W) -> (N, C + 1, H, W)``: the features plus their group standard deviation.

    Samples ``i`` and ``j`` are in one group when ``i ≡ j (mod N / G)``, with ``G`` the
    largest divisor of ``N`` not above ``group_size`` (StyleGAN's grouping; a batch of
    one has no spread to show and gets zeros). Under torchrun each process groups its
    own share of the batch.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if not isinstance(group_size, int) or group_size < 2:
            raise ValueError(f"MinibatchStdDev: group_size must be an integer >= 2: {group_size}")
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group_size, n) + 1) if n % d == 0)
        y = x.float().reshape(g, n // g, c, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # (N/G, C, H, W)
        y = y.mean(dim=(1, 2, 3)).reshape(n // g, 1, 1, 1)  # one number per group
        if g == 1:
            y = torch.zeros_like(y)
        y = y.repeat(g, 1, h, w).to(x.dtype)  # row i gets group i mod N/G
        return torch.cat([x, y], dim=1)
