"""A dataset plugin: linear colour gradients, drawn in code (no download)."""

from __future__ import annotations

import torch

from gst_core import DataError, ImageDataset


class Gradients(ImageDataset):
    """``count`` images ``(3, size, size)`` in ``[-1, 1]``, each a random two-colour ramp.

    Items are ``(image, -1)``: unlabelled, as gst's GAN data. Deterministic in ``seed``.
    """

    def __init__(self, count: int = 256, size: int = 16, seed: int = 0) -> None:
        if count < 1 or size < 2:
            raise DataError(f"example_gradients: count >= 1 and size >= 2, got {count}, {size}")
        rng = torch.Generator().manual_seed(seed)
        start, end = torch.rand(2, count, 3, 1, 1, generator=rng) * 2 - 1
        ramp = torch.linspace(0, 1, size).view(1, 1, 1, size).expand(count, 1, size, size)
        self.images = start + (end - start) * ramp
        self.image_shape = (3, size, size)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], -1
