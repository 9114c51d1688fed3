"""The Charbonnier loss: a smooth L1, robust to outliers (Lai et al., LapSRN, 2017)."""

import torch
from torch import Tensor

from gst_core import Loss


class CharbonnierLoss(Loss):
    """``mean(sqrt((input - target)^2 + eps^2))``; ``forward(input, target) -> scalar``."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return torch.sqrt((input - target) ** 2 + self.eps**2).mean()
