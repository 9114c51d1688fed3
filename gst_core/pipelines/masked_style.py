"""Spatial control for Gatys style transfer: one style per masked region.

Gatys et al. (CVPR 2017, "Controlling Perceptual Factors in Neural Style
Transfer", section 4) and neural-style's masked style: for each region ``r``
the Gram matrix of the features multiplied by the region's mask (resized to the
feature map) is compared with style ``r``'s Gram::

    G_r = (F ⊙ m_r)(F ⊙ m_r)ᵀ / (C · Σ m_r)

normalised by the mask's sum, so a mask of all ones gives the plain Gram
``F Fᵀ / (C·H·W)`` of :class:`~gst_plugins.losses.style.StyleLoss`, and the
layer's loss is ``Σ_r mean((G_r − T_r)²)``. Masks go through
:func:`gst_core.feature_stats.resize_masks` (area interpolation, summing to 1 per
pixel; where all are 0 the styles share the pixel), as AdaIN's masks do.

This is plain torch: the Gram kernels of :mod:`gst_kernels` take no weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from gst_core.feature_stats import resize_masks
from gst_core.interfaces import FeatureLoss

from .stylize_options import StyleTransferError

__all__ = ["MaskedStyleLoss", "check_masks", "masked_gram", "resize_mask"]


def masked_gram(features: Tensor, mask: Tensor) -> Tensor:
    """``(F ⊙ m)(F ⊙ m)ᵀ / (C · Σm)`` per sample: ``(B, C, H, W)`` and ``(B or 1, 1, H, W)``
    masks → ``(B, C, C)``.

    Computed in float32 at least (float64 stays float64).
    """
    dtype = torch.promote_types(features.dtype, torch.float32)
    b, c = features.shape[:2]
    weighted = (features.to(dtype) * mask.to(dtype)).reshape(b, c, -1)
    area = mask.to(dtype).sum(dim=(1, 2, 3)).clamp_min(1e-8).reshape(-1, 1, 1)
    return weighted @ weighted.transpose(1, 2) / (c * area)


def check_masks(masks: Sequence[Tensor], count: int, content_size: Sequence[int]) -> Tensor:
    """The masks as one ``(K, 1, H, W)`` float tensor at ``content_size``, or a clear error.

    Each mask is ``(H, W)``, ``(1 or 3, H, W)`` or ``(1, 1 or 3, H, W)`` in ``[0, 1]``
    (colour masks are averaged to grey), with the content's aspect ratio.
    """
    masks = list(masks)
    if len(masks) != count:
        raise StyleTransferError(
            f"{len(masks)} mask(s) for {count} style image(s); give one mask per style"
        )
    h, w = (int(s) for s in content_size)
    grey = []
    for i, mask in enumerate(masks, 1):
        if not isinstance(mask, Tensor) or mask.dim() not in (2, 3, 4):
            shape = tuple(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
            raise StyleTransferError(
                f"mask {i} must be an (H, W), (C, H, W) or (1, C, H, W) tensor in [0, 1] "
                f"(gst_core.images.load_image reads one), got {shape}"
            )
        m = mask.detach().float().reshape((1,) * (4 - mask.dim()) + tuple(mask.shape))
        if m.shape[0] != 1 or m.shape[1] not in (1, 3):
            raise StyleTransferError(
                f"mask {i} has shape {tuple(mask.shape)}; give one grey or RGB image per style"
            )
        if not torch.isfinite(m).all() or m.min() < 0 or m.max() > 1:
            raise StyleTransferError(f"mask {i} has values outside [0, 1]; masks are images")
        mh, mw = m.shape[-2:]
        if abs(mw / mh - w / h) > 0.02 * (w / h) + 1.0 / min(mh, h):
            raise StyleTransferError(
                f"mask {i} is {mw}×{mh} but the content is {w}×{h}: a mask must have the "
                "content's aspect ratio (it is resized to the content)"
            )
        m = m.mean(dim=1, keepdim=True)
        if m.max() <= 0:
            raise StyleTransferError(
                f"mask {i} is black everywhere, so its style would be used nowhere; "
                "white marks where a style applies"
            )
        grey.append(resize_mask(m, (h, w)))
    return torch.cat(grey)


def resize_mask(mask: Tensor, size: Sequence[int]) -> Tensor:
    size = (int(size[0]), int(size[1]))
    if tuple(mask.shape[-2:]) == size:
        return mask
    return F.interpolate(mask, size=size, mode="bilinear", align_corners=False, antialias=True)


class MaskedStyleLoss(FeatureLoss):
    """The built-in style loss with one Gram per masked region, for one pyramid level.

    Wraps ``style_loss`` (its layers and layer weights); ``masks`` ``(K, 1, H, W)`` at
    the image's size are resized to each layer's feature map once. Targets are
    ``{layer: (K, C, C)}``, the Gram of style ``k`` for region ``k`` (:meth:`stack_targets`).
    """

    owner = "style loss"
    default_layers_attr = "default_style_layers"

    def __init__(self, style_loss: FeatureLoss, masks: Tensor) -> None:
        super().__init__()
        self.set_layers(style_loss.layers, style_loss.weights)
        self.inner = style_loss
        self.masks = masks
        self._resized: dict[tuple[int, int], Tensor] = {}

    @torch.no_grad()
    def targets(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return self.inner.targets(features)

    @staticmethod
    def stack_targets(per_style: Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
        """One ``(C, C)`` target per style and layer → ``{layer: (K, C, C)}``."""
        return {name: torch.stack([t[name] for t in per_style]) for name in per_style[0]}

    def region_masks(self, size: Sequence[int]) -> Tensor:
        key = (int(size[0]), int(size[1]))
        if key not in self._resized:
            self._resized[key] = resize_masks(self.masks, key)
        return self._resized[key]

    def layer_term(self, name: str, features: Tensor, target: Tensor) -> Tensor:
        regions = self.region_masks(features.shape[-2:]).to(features.device)
        term = features.new_zeros((), dtype=torch.float32)
        for k in range(regions.shape[0]):
            gram = masked_gram(features, regions[k : k + 1])
            term = term + ((gram - target[k].to(gram)) ** 2).mean()
        return self.weights[name] * term
