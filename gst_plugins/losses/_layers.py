"""Per-layer weights shared by the feature-matching losses (content, style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gst_core.errors import GstError
from gst_core.interfaces import Loss

__all__ = ["LayerWeightError", "LayerWeightedLoss", "layer_weights"]


class LayerWeightError(GstError, ValueError):
    """Per-layer weights do not match the layers."""


def layer_weights(
    layers: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None, owner: str
) -> dict[str, float]:
    """``{layer: weight}``; ``None`` weighs every layer 1 (as the tutorial and neural-style do)."""
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    if weights is None:
        return dict.fromkeys(layers, 1.0)
    if isinstance(weights, Mapping):
        extra = sorted(set(weights) - set(layers))
        if extra:
            raise LayerWeightError(
                f"{owner}: layer_weights name {', '.join(extra)}, which are not among its "
                f"layers ({', '.join(layers)}); add them to layers or drop the weights"
            )
        return {name: float(weights.get(name, 1.0)) for name in layers}
    weights = list(weights)
    if len(weights) != len(layers):
        raise LayerWeightError(
            f"{owner}: {len(weights)} layer weight(s) for {len(layers)} layer(s) "
            f"({', '.join(layers) or 'none named'}); give one weight per layer"
            + ("" if layers else " and name the layers (layers = [...])")
        )
    return {name: float(w) for name, w in zip(layers, weights, strict=True)}


class LayerWeightedLoss(Loss):
    """A loss over named feature layers, each with a weight (``self.weights``, ``self.layers``)."""

    #: How error messages name the loss, e.g. "style loss".
    owner = "loss"

    def set_layers(
        self,
        layers: Sequence[str],
        weights: Mapping[str, float] | Sequence[float] | None = None,
    ) -> None:
        """Use ``layers`` with ``weights`` (one per layer, a ``{layer: w}`` dict, or all 1)."""
        self.weights = layer_weights(layers, weights, self.owner)
        self.layers = tuple(self.weights)
