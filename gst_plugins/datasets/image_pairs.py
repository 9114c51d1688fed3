"""The base of the image-to-image datasets: two domains of uint8 images held in memory.

Items are ``{"A": (C, H, W), "B": (C, H, W)}`` floats in ``[-1, 1]``. Images are
stored at ``load_size`` and, as in the pix2pix/CycleGAN code, each item is a
random ``image_size`` crop (when ``load_size > image_size``) flipped left-right
with probability ½ (``flip``). A paired item crops and flips A and B the same
way; an unpaired one draws A and B independently, B at a random index.

Randomness comes from torch's global generator, which the trainer seeds and
checkpoints, so a resumed run sees the same crops as an uninterrupted one.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import pil_to_tensor, to_rgb
from gst_core.interfaces import ImageDataset

__all__ = ["ImagePairs", "check_sizes", "read_image", "read_images"]

UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError)


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


def _to_uint8(image: Image.Image, size: int, channels: int) -> Tensor:
    image = to_rgb(image).resize((size, size), Image.Resampling.BICUBIC)
    if channels == 1:
        image = image.convert("L")
    return (pil_to_tensor(image)[0, :channels] * 255).round().to(torch.uint8)


def read_image(path: Path) -> Image.Image:
    """A decoded image, EXIF orientation applied (errors as Pillow raises them)."""
    with Image.open(path) as opened:
        opened.load()
        return (ImageOps.exif_transpose(opened) or opened).copy()


def read_images(
    paths: Sequence[Path], size: int, channels: int, owner: str
) -> tuple[list[Tensor | None], list[Path]]:
    """``(tensors, skipped)``: each readable image resized to ``size``², ``None`` where not."""
    out: list[Tensor | None] = []
    skipped: list[Path] = []
    for path in paths:
        try:
            out.append(_to_uint8(read_image(path), size, channels))
        except UNREADABLE:
            out.append(None)
            skipped.append(path)
    return out, skipped


def warn_skipped(skipped: Sequence[Path], total: int, where: str) -> None:
    if skipped:
        first = ", ".join(p.name for p in skipped[:3])
        warnings.warn(
            f"skipped {len(skipped)} unreadable image(s) of {total} in {where}: "
            f"{first}{', ...' if len(skipped) > 3 else ''}",
            stacklevel=3,
        )


class ImagePairs(ImageDataset):
    """Two domains of uint8 images ``(N, C, S, S)``; paired (same index) or not.

    ``len`` is the larger domain's size; item ``i`` takes A ``i mod len(A)`` and,
    unpaired, a random B (so every image of both domains is seen, as in the
    reference's unaligned dataset).
    """

    def __init__(
        self, a: Tensor, b: Tensor, *, paired: bool, image_size: int, flip: bool = True
    ) -> None:
        if paired and len(a) != len(b):
            raise DataError(f"paired data needs as many A as B images, got {len(a)} and {len(b)}")
        if not len(a) or not len(b):
            raise DataError("both domains need at least one image")
        self.a, self.b = a, b
        self.paired = paired
        self.image_size = image_size
        self.flip = bool(flip)
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (int(self.a.shape[1]), self.image_size, self.image_size)

    @property
    def channels(self) -> tuple[int, int]:
        return int(self.a.shape[1]), int(self.b.shape[1])

    def _augment(self, images: Sequence[Tensor]) -> list[Tensor]:
        """The same random crop and flip for each of ``images`` (one draw)."""
        load, size = images[0].shape[-1], self.image_size
        top, left = (torch.randint(0, load - size + 1, (2,)).tolist()) if load > size else (0, 0)
        flip = self.flip and bool(torch.rand(()) < 0.5)
        out = []
        for image in images:
            image = image[:, top : top + size, left : left + size]
            out.append(image.flip(-1) if flip else image)
        return out

    def _item(self, index: int) -> tuple[Tensor, Tensor]:
        a = self.a[index % len(self.a)]
        if self.paired:
            a, b = self._augment([a, self.b[index]])
        else:
            b = self.b[int(torch.randint(0, len(self.b), ()))]
            (a,), (b,) = self._augment([a]), self._augment([b])
        return a, b

    @staticmethod
    def _to_float(images: Tensor) -> Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        a, b = self._item(index % len(self))
        return {"A": self._to_float(a), "B": self._to_float(b)}

    def get_batch(self, indices: Sequence[int] | Tensor) -> dict[str, Tensor]:
        items = [self._item(int(i)) for i in torch.as_tensor(indices).tolist()]
        return {
            "A": self._to_float(torch.stack([a for a, _ in items])),
            "B": self._to_float(torch.stack([b for _, b in items])),
        }
