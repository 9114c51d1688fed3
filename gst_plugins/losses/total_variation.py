"""Total-variation regulariser: penalises pixel-to-pixel differences (Mahendran & Vedaldi 2015)."""

from __future__ import annotations

from torch import Tensor

from gst_core.interfaces import Loss

__all__ = ["TotalVariationLoss"]


class TotalVariationLoss(Loss):
    """``mean(|x[i+1,j] − x[i,j]|^β) + mean(|x[i,j+1] − x[i,j]|^β)`` of an image.

    ``forward(image)`` with ``image`` ``(B, C, H, W)``. ``beta=2`` (the default)
    is smooth everywhere and cheap; ``beta=1`` keeps edges sharper.
    """

    def __init__(self, beta: float = 2.0) -> None:
        super().__init__()
        if beta <= 0:
            raise ValueError(f"beta must be positive, got {beta}")
        self.beta = float(beta)

    def forward(self, image: Tensor) -> Tensor:
        dy = image[..., 1:, :] - image[..., :-1, :]
        dx = image[..., :, 1:] - image[..., :, :-1]
        if self.beta == 2.0:
            return dy.square().mean() + dx.square().mean()
        return dy.abs().pow(self.beta).mean() + dx.abs().pow(self.beta).mean()
