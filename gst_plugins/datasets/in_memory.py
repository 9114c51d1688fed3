"""A dataset of images held in memory as one uint8 tensor."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from gst_core.errors import DataError
from gst_core.interfaces import ImageDataset

__all__ = ["InMemoryImages"]


class InMemoryImages(ImageDataset):
    """Items are ``(image, label)``: a float ``(C, H, W)`` image in ``[-1, 1]`` and an int label
    (``-1`` when the data is unlabelled).

    ``get_batch(indices)`` gathers a whole batch with one indexing operation;
    the trainer uses it instead of collating items one by one.
    """

    def __init__(
        self, images: Tensor, labels: Tensor | None = None, classes: Sequence[str] = ()
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise DataError(
                f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        self.images = images
        self.labels = labels if labels is not None else torch.full((len(images),), -1)
        self.classes = list(classes)
        self.num_classes = len(self.classes)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @staticmethod
    def _to_float(images: Tensor) -> Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self._to_float(self.images[index]), int(self.labels[index])

    def get_batch(self, indices: Sequence[int] | Tensor) -> tuple[Tensor, Tensor]:
        index = torch.as_tensor(indices)
        return self._to_float(self.images[index]), self.labels[index]
