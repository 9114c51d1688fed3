"""Style loss: weighted Gram-matrix differences (Gatys et al. 2016, eq. 3–5).

Both the Gram targets and the loss go through :mod:`gst_kernels` (Triton on
CUDA, a hand-differentiated torch path elsewhere), with the convention
``G = F Fᵀ / (C·H·W)`` per image and ``mean((G − T)²)`` per layer — the
PyTorch "Neural Transfer" tutorial's normalisation, so its weights carry over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from gst_core.errors import LayerWeightError
from gst_core.interfaces import FeatureLoss

__all__ = ["StyleLoss"]


class StyleLoss(FeatureLoss):
    """``Σ_l w_l · mean((gram(F_l) − T_l)²)`` over the style layers.

    ``forward(features, target_grams)``: the image's ``{layer: (B, C, H, W)}`` and
    ``{layer: (C, C) or (B, C, C)}`` targets from :meth:`target_grams` (a
    pipeline blends several styles' targets by weight). ``layers=()`` lets a pipeline use its
    extractor's ``default_style_layers``. ``backend`` goes to :mod:`gst_kernels`.
    """

    owner = "style loss"
    default_layers_attr = "default_style_layers"

    def __init__(
        self,
        layers: Sequence[str] = (),
        layer_weights: Mapping[str, float] | Sequence[float] | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.backend = backend
        self.set_layers(layers, layer_weights)

    @torch.no_grad()
    def targets(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The ``(C, C)`` Gram of each style layer of one image's features."""
        from gst_kernels import gram

        return {name: gram(features[name], backend=self.backend)[0] for name in self.layers}

    target_grams = targets  # the name this method had before FeatureLoss.targets

    def layer_term(self, name: str, features: Tensor, target_gram: Tensor) -> Tensor:
        """One layer's weighted term; ``forward`` is their sum over :attr:`layers`."""
        from gst_kernels import style_loss

        return self.weights[name] * style_loss(features, target_gram, backend=self.backend)

    def forward(self, features: Mapping[str, Tensor], target_grams: Mapping[str, Tensor]) -> Tensor:
        from gst_kernels import multi_style_loss

        if not self.layers:
            raise LayerWeightError("style loss has no layers; set layers=(...)")
        return multi_style_loss(
            [features[name] for name in self.layers],
            [target_grams[name] for name in self.layers],
            list(self.weights.values()),
            backend=self.backend,
        )
