"""The offline FID/KID feature network: pooled random multi-scale filters.

No pretrained network can be downloaded here, yet FID and KID need a fixed
feature space. ``random_pool`` takes :class:`RandomMultiscale` (random 5×5
filters + ReLU over an image pyramid, fixed seed; see that module for why
random filters describe colour and texture) and pools each level's maps to
their spatial mean and standard deviation: ``2 · channels · num_scales``
numbers per image (512 by default). The statistics say how much of each
filter's pattern an image holds and how unevenly, at scales from 5 to 80
pixels.

It is deterministic (same weights on every machine, nothing downloaded) and
good for comparing runs with each other, but its values are NOT comparable
with published FID/KID, which use the FID InceptionV3 (``inception``).

Pooled-extractor contract: see :mod:`gst_plugins.feature_extractors.inception`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from gst_core.interfaces import FeatureExtractor

from .random_multiscale import RandomMultiscale

__all__ = ["RandomPool"]


class RandomPool(FeatureExtractor):
    """Spatial mean and std of random multi-scale filter responses: ``{"pool": (B, D)}``.

    Args:
        layers: only ``("pool",)``.
        channels: random filters per pyramid level.
        num_scales: pyramid levels.
        image_size: images are resized to this square size (bilinear) first, so every
            image size gives features of the same scale.
        seed: seed of the random filters.
    """

    available_layers: ClassVar[tuple[str, ...]] = ("pool",)
    comparable: ClassVar[bool] = False

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        channels: int = 64,
        num_scales: int = 4,
        image_size: int = 64,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if layers is not None and tuple(layers) != ("pool",):
            raise ValueError(f"RandomPool has one tap, 'pool'; got layers={list(layers)}")
        if image_size < 2**num_scales:
            raise ValueError(
                f"image_size must be at least 2**num_scales = {2**num_scales}, got {image_size}"
            )
        self.layers = ("pool",)
        self.input_size = (image_size, image_size)
        self.resize_method = (
            f"bilinear resize to {image_size}x{image_size} (torch interpolate, align_corners=False)"
        )
        self.net = RandomMultiscale(
            [f"scale{i}" for i in range(1, num_scales + 1)],
            channels=channels,
            num_scales=num_scales,
            seed=seed,
            channels_last=False,
        )
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        x = images
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        pooled = []
        for _, maps in self.net.iter_taps(x):
            flat = maps.flatten(2)
            pooled += [flat.mean(2), flat.std(2)]
        return {"pool": torch.cat(pooled, 1)}
