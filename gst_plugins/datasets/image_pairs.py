"""The base of the image-to-image datasets: two domains of uint8 images.

Items are ``{"A": (C, H, W), "B": (C, H, W)}`` floats in ``[-1, 1]``. Images are
stored (or read) at ``load_size`` and, as in the pix2pix/CycleGAN code, each
item is a random ``image_size`` crop (when ``load_size > image_size``) flipped
left-right with probability ½ (``flip``). A paired item crops and flips A and
B the same way; an unpaired one draws A and B independently, B at a random index.

Randomness: the trainer hands each item a :class:`~gst_core.sample_keys.SampleKey`
and the crop, flip and partner are drawn from that key's own generator, so they
do not depend on which DataLoader worker reads the item, and a resumed run sees
the same crops as an uninterrupted one. A bare index (``data[3]``) draws from
torch's global generator instead.

The in-memory built-ins (``paired_shapes``) pass tensors; the folder datasets
override :meth:`ImagePairs._sources` to read through a
:class:`~gst_plugins.datasets.decoded_files.DecodedFiles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import pil_to_tensor, to_rgb
from gst_core.interfaces import ImageDataset
from gst_core.sample_keys import SampleKey, index_of, unpack_key

__all__ = ["ImagePairs", "check_sizes", "to_uint8"]


def check_sizes(image_size: int, load_size: int | None, channels: int, owner: str) -> int:
    """Validate the common options; returns ``load_size`` (default: ``image_size``)."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise DataError(f"{owner}: image_size must be an integer >= 8, got {image_size!r}")
    load_size = image_size if load_size is None else load_size
    if isinstance(load_size, bool) or not isinstance(load_size, int) or load_size < image_size:
        raise DataError(
            f"{owner}: load_size must be an integer >= image_size ({image_size}), got "
            f"{load_size!r}; images are resized to load_size, then randomly cropped to image_size"
        )
    if channels not in (1, 3):
        raise DataError(f"{owner}: channels must be 1 or 3, got {channels!r}")
    return load_size


def to_uint8(image: Image.Image, size: int, channels: int) -> Tensor:
    """``image`` resized to ``size``² (bicubic, as the reference), as uint8 ``(channels, S, S)``."""
    image = to_rgb(image).resize((size, size), Image.Resampling.BICUBIC)
    if channels == 1:
        image = image.convert("L")
    return (pil_to_tensor(image)[0, :channels] * 255).round().to(torch.uint8)


class ImagePairs(ImageDataset):
    """Two domains of uint8 images ``(N, C, S, S)``; paired (same index) or not.

    ``len`` is the larger domain's size; item ``i`` takes A ``i mod len(A)`` and,
    unpaired, a random B (so every image of both domains is seen, as in the
    reference's unaligned dataset).
    """

    #: Items accept a SampleKey and draw their randomness from it (see gst_core.sample_keys).
    keyed_samples = True
    #: True when items are read from disk per sample (the trainer then uses DataLoader workers).
    streamed = False
    #: Files that could not be read (the folder datasets fill it in).
    skipped: Sequence[Path] = ()

    def __init__(
        self, a: Tensor, b: Tensor, *, paired: bool, image_size: int, flip: bool = True
    ) -> None:
        self.a, self.b = a, b
        self._setup(
            (len(a), len(b)),
            (int(a.shape[1]), int(b.shape[1])),
            paired=paired,
            image_size=image_size,
            flip=flip,
        )

    def _setup(
        self,
        sizes: tuple[int, int],
        channels: tuple[int, int],
        *,
        paired: bool,
        image_size: int,
        flip: bool,
    ) -> None:
        if paired and sizes[0] != sizes[1]:
            raise DataError(
                f"paired data needs as many A as B images, got {sizes[0]} and {sizes[1]}"
            )
        if not sizes[0] or not sizes[1]:
            raise DataError("both domains need at least one image")
        self.sizes = sizes
        self._channels = channels
        self.paired = paired
        self.image_size = image_size
        self.flip = bool(flip)

    def __len__(self) -> int:
        return max(self.sizes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self._channels[0], self.image_size, self.image_size)

    @property
    def channels(self) -> tuple[int, int]:
        return self._channels

    def _sources(self, index: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        """The A and B images (uint8, at load size) of item ``index``, before augmentation."""
        a = self.a[index % len(self.a)]
        if self.paired:
            return a, self.b[index]
        return a, self.b[int(torch.randint(0, len(self.b), (), generator=generator))]

    def _augment(self, images: Sequence[Tensor], generator: torch.Generator | None) -> list[Tensor]:
        """The same random crop and flip for each of ``images`` (one draw)."""
        load, size = images[0].shape[-1], self.image_size
        top, left = (0, 0)
        if load > size:
            top, left = torch.randint(0, load - size + 1, (2,), generator=generator).tolist()
        flip = self.flip and bool(torch.rand((), generator=generator) < 0.5)
        out = []
        for image in images:
            image = image[:, top : top + size, left : left + size]
            out.append(image.flip(-1) if flip else image)
        return out

    def _item(self, index: int | SampleKey) -> tuple[Tensor, Tensor]:
        index, generator = unpack_key(index)
        a, b = self._sources(index % len(self), generator)
        if self.paired:
            a, b = self._augment([a, b], generator)
        else:
            (a,), (b,) = self._augment([a], generator), self._augment([b], generator)
        return a, b

    @staticmethod
    def _to_float(images: Tensor) -> Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def __getitem__(self, index: int | SampleKey) -> dict[str, Tensor]:
        plain = index_of(index)
        if not -len(self) <= plain < len(self):
            raise IndexError(plain)
        a, b = self._item(index)
        return {"A": self._to_float(a), "B": self._to_float(b)}

    def get_batch(self, indices: Sequence[int | SampleKey] | Tensor) -> dict[str, Tensor]:
        if isinstance(indices, Tensor):
            indices = indices.tolist()
        items = [self._item(i) for i in indices]
        return {
            "A": self._to_float(torch.stack([a for a, _ in items])),
            "B": self._to_float(torch.stack([b for _, b in items])),
        }
