"""Per-channel feature statistics and adaptive instance normalisation (AdaIN).

Huang & Belongie (ICCV 2017) describe a style by the channel-wise mean and
standard deviation of a feature map; AdaIN gives content features those
statistics::

    AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)

The statistics follow pytorch-AdaIN's ``function.py`` so that its trained
decoders behave the same here: the unbiased variance over the spatial
positions plus ``eps = 1e-5``, then the square root.

Spatial control (the paper's section 7.3): with a mask, the statistics are
weighted by it, so a region's content is normalised by its own statistics and
given one style's. A plugin may use these functions (the ``adain`` objective
does); the apply path (``gst stylize --model``, ONNX export) does too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["EPS", "adain", "blend_adain", "mean_std", "resize_masks"]

EPS = 1e-5


def mean_std(
    features: Tensor, mask: Tensor | None = None, eps: float = EPS
) -> tuple[Tensor, Tensor]:
    """Channel means and stds of ``features`` ``(B, C, H, W)``, each ``(B, C, 1, 1)``.

    With ``mask`` ``(B or 1, 1, H, W)`` of weights in ``[0, 1]``, the weighted statistics of
    the masked region (an unbiased estimate with ``Σw − 1`` in the denominator, as the
    unmasked case's ``N − 1``).
    """
    if mask is None:
        b, c = features.shape[:2]
        flat = features.reshape(b, c, -1)
        var = flat.var(dim=2) + eps
        return flat.mean(dim=2).view(b, c, 1, 1), var.sqrt().view(b, c, 1, 1)
    weight = mask.sum(dim=(2, 3), keepdim=True)
    mean = (features * mask).sum(dim=(2, 3), keepdim=True) / weight.clamp_min(eps)
    centred = (features - mean) * mask.sqrt()
    var = centred.pow(2).sum(dim=(2, 3), keepdim=True) / (weight - 1).clamp_min(eps)
    return mean, (var + eps).sqrt()


def adain(
    content: Tensor,
    style_mean: Tensor,
    style_std: Tensor,
    mask: Tensor | None = None,
) -> Tensor:
    """``content`` normalised (over ``mask``'s region when given), with the style's statistics."""
    mean, std = mean_std(content, mask)
    return (content - mean) / std * style_std + style_mean


def resize_masks(masks: Tensor, size: Sequence[int]) -> Tensor:
    """Masks ``(K, 1, H, W)`` in ``[0, 1]`` at a feature map's ``size``, summing to 1 per pixel.

    Area interpolation keeps soft borders; where every mask is 0 the weight is
    shared evenly, so no feature is left without a style.
    """
    resized = (
        F.interpolate(masks, size=tuple(size), mode="area")
        if masks.shape[-2:] != tuple(size)
        else masks
    )
    total = resized.sum(dim=0, keepdim=True)
    even = torch.full_like(resized, 1.0 / resized.shape[0])
    return torch.where(total > 1e-6, resized / total.clamp_min(1e-6), even)


def blend_adain(
    content: Tensor,
    style_stats: Sequence[tuple[Tensor, Tensor]],
    *,
    weights: Tensor | None = None,
    masks: Tensor | None = None,
    alpha: float | Tensor = 1.0,
) -> Tensor:
    """The decoder's input for one content ``(B, C, H, W)`` and several styles.

    * ``weights`` ``(K,)``: the styles interpolated in feature space (the paper's
      style interpolation: ``Σ wₖ AdaIN(x, yₖ)``); default: all equal.
    * ``masks`` ``(K, 1, H', W')``: spatial control instead: region ``k`` (resized to the
      features) is normalised by its own statistics and gets style ``k``'s.
    * ``alpha``: the content-style trade-off, ``α·t + (1 − α)·x``; 0 returns ``content``.
    """
    count = len(style_stats)
    if masks is not None:
        regions = resize_masks(masks.to(content), content.shape[-2:])
        target = sum(
            regions[k : k + 1] * adain(content, m, s, regions[k : k + 1])
            for k, (m, s) in enumerate(style_stats)
        )
    else:
        if weights is None:
            weights = content.new_full((count,), 1.0 / count)
        target = sum(weights[k] * adain(content, m, s) for k, (m, s) in enumerate(style_stats))
    return alpha * target + (1 - alpha) * content
