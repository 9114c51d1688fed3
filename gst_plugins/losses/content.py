"""Content loss: mean squared error between feature maps (Gatys et al. 2016, eq. 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor

from gst_core.interfaces import FeatureLoss

from .feature_mse import feature_mse

__all__ = ["ContentLoss"]


class ContentLoss(FeatureLoss):
    """``Σ_l w_l · mean((F_l − P_l)²)`` over the content layers.

    ``forward(features, targets)`` takes two ``{layer: (B, C, H, W)}`` dicts, the
    image's features and the content image's (computed once, without gradients).
    ``layers=()`` lets a pipeline use its extractor's ``default_content_layers``.
    """

    owner = "content loss"

    def __init__(
        self,
        layers: Sequence[str] = (),
        layer_weights: Mapping[str, float] | Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.set_layers(layers, layer_weights)

    def layer_term(self, name: str, features: Tensor, target: Tensor) -> Tensor:
        """One layer's weighted term; ``forward`` is their sum over :attr:`layers`."""
        return self.weights[name] * feature_mse(features, target)
