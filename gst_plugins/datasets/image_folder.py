"""A folder of the user's images, with or without class subfolders.

``root/*.png`` is unlabelled data; ``root/<class>/**/*.jpg`` is labelled, one
class per subfolder (sorted by name, as torchvision's ``ImageFolder``).
Any size and any format Pillow reads: each image is centre-cropped to a
square and resized to ``image_size``; ``flip = true`` mirrors it left-right
with probability ½ (drawn from the sample's key, see
:mod:`gst_core.sample_keys`).

Files are listed at start-up and read per sample (streamed) unless the decoded
set fits the cache budget (see :mod:`.decoded_files`). Unreadable files are
skipped and counted (``skipped``), with a warning naming them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image, ImageOps
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import find_images, image_suffixes, pil_to_tensor, to_rgb
from gst_core.interfaces import ImageDataset
from gst_core.sample_keys import SampleKey, index_of, unpack_key

from .decoded_files import (
    CACHE_BUDGET_MB,
    MAX_UNREADABLE,
    REDUCING_GAP,
    DecodedFiles,
    FileBacked,
    check_store_options,
    choose_cache,
)

__all__ = ["ImageFolder"]

_GREY = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)


class FolderConvert:
    """One file centre-cropped and resized to ``size``², as uint8 ``(channels, S, S)``."""

    def __init__(self, size: int, channels: int) -> None:
        self.size, self.channels = size, channels
        self.draft = (REDUCING_GAP * size,) * 2  # the square's side is the short side

    def __call__(self, images: list[Image.Image], paths: Sequence[Path]) -> tuple[Tensor, ...]:
        # The same conversion as load_image: a plain convert("RGB") clips 16-bit
        # grayscale to white and turns fully transparent pixels black.
        fitted = ImageOps.fit(to_rgb(images[0]), (self.size,) * 2, Image.Resampling.LANCZOS)
        image = (pil_to_tensor(fitted)[0] * 255).round().to(torch.uint8)
        if self.channels == 1:
            image = (image.float() * _GREY).sum(0, keepdim=True).round().to(torch.uint8)
        return (image,)


def _list(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    labelled = [(d, find_images(d)) for d in subfolders]
    labelled = [(d, files) for d, files in labelled if files]
    if not labelled:
        return [], [(f, -1) for f in find_images(root)]
    loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in image_suffixes()]
    if loose:
        warnings.warn(
            f"{len(loose)} image(s) directly in {str(root)!r} are ignored: with class "
            "subfolders present, every image must be in one",
            stacklevel=3,
        )
    classes = [d.name for d, _ in labelled]
    return classes, [(f, i) for i, (_, fs) in enumerate(labelled) for f in fs]


class ImageFolder(FileBacked, ImageDataset):
    """Every image under ``root``; items ``(image, label)``: a float ``(C, S, S)`` image in
    ``[-1, 1]`` and an int label (``-1`` when unlabelled)."""

    def __init__(
        self,
        root: str | Path,
        image_size: int = 64,
        channels: int = 3,
        flip: bool = False,
        cache: str | bool = "auto",
        cache_budget_mb: float = CACHE_BUDGET_MB,
        max_unreadable: float = MAX_UNREADABLE,
    ) -> None:
        owner = "image folder"
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"image folder {str(root)!r} does not exist or is not a folder")
        if channels not in (1, 3):
            raise DataError(f"channels must be 1 or 3, got {channels}")
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
            raise DataError(f"{owner}: image_size must be a positive integer, got {image_size!r}")
        check_store_options(cache, cache_budget_mb, max_unreadable, owner)
        classes, files = _list(root)
        if not files:
            raise DataError(
                f"no images found in {str(root)!r}; put images (PNG, JPEG, ...) in it, or one "
                "subfolder of images per class"
            )
        use_cache, why = choose_cache(cache, len(files) * channels * image_size**2, cache_budget_mb)
        self.store = DecodedFiles(
            [(f,) for f, _ in files],
            FolderConvert(image_size, channels),
            cache=use_cache,
            max_unreadable=max_unreadable,
            where=repr(str(root)),
            owner=owner,
        )
        self.stores = [self.store]
        self.all_labels = torch.tensor([label for _, label in files])
        self.labels = self.all_labels[self.store.kept]
        self.classes = classes
        self.num_classes = len(classes)
        self.root = root
        self.flip = bool(flip)
        self._shape = (channels, image_size, image_size)
        held = "held in memory" if use_cache else "streamed from disk"
        self.storage_note = f"{len(self.store):,} images in {str(root)!r}, {held} ({why})"

    def __len__(self) -> int:
        return len(self.store)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self._shape

    @property
    def images(self) -> Tensor:
        """Every image as one uint8 ``(N, C, S, S)`` tensor (a cached folder only)."""
        if not self.store.cached:
            raise DataError(
                f"{str(self.root)!r} is streamed from disk, so its images are not held in "
                "memory; read them one by one (data[i]) or build it with cache = true"
            )
        return self.store.parts[0]

    def _image(self, index: int | SampleKey) -> tuple[Tensor, int]:
        index, generator = unpack_key(index)
        record, (image,) = self.store.get(index)
        if self.flip and bool(torch.rand((), generator=generator) < 0.5):
            image = image.flip(-1)
        return image, int(self.all_labels[record])

    @staticmethod
    def _to_float(images: Tensor) -> Tensor:
        return images.float().div_(127.5).sub_(1.0)

    def __getitem__(self, index: int | SampleKey) -> tuple[Tensor, int]:
        plain = index_of(index)
        if not -len(self) <= plain < len(self):
            raise IndexError(plain)
        image, label = self._image(index if plain >= 0 else plain % len(self))
        return self._to_float(image), label

    def get_batch(self, indices: Sequence[int | SampleKey] | Tensor) -> tuple[Tensor, Tensor]:
        if isinstance(indices, Tensor):
            indices = indices.tolist()
        if self.store.cached and not self.flip:
            # One indexing operation for the whole batch (the in-memory fast path).
            index = torch.tensor([index_of(i) for i in indices], dtype=torch.long)
            return self._to_float(self.store.parts[0][index]), self.labels[index]
        items = [self._image(i) for i in indices]
        return (
            self._to_float(torch.stack([im for im, _ in items])),
            torch.tensor([label for _, label in items]),
        )
