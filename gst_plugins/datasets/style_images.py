"""The style images of ``gan_style`` and ``adain``: a folder streamed like any folder dataset.

A style folder is listed at start-up and each image is opened, decoded and
resized (longer side ``size``) when a crop of it is drawn, by the same
:class:`~.decoded_files.DecodedFiles` store the folder datasets use, so its
memory is O(batch) whatever its size, unreadable files are skipped and
counted when met, and ``cache = "auto"`` holds a folder that fits the cache
budget in memory. One file, or images already in memory (the built-in drawn
styles), are held as they are.

A crop is drawn by :meth:`StyleImages.crop` from a generator the caller seeds
(from a content sample's key, see :mod:`.with_style`): which image, and
where, never depends on the DataLoader worker that draws it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import find_images, load_image, pil_to_tensor, resized

from .decoded_files import (
    CACHE_BUDGET_MB,
    MAX_UNREADABLE,
    REDUCING_GAP,
    DecodedFiles,
    FileBacked,
    check_store_options,
    choose_cache,
)

__all__ = ["StyleImages"]


class StyleConvert:
    """One style file, longer side ``size`` (as ``load_image``), as uint8 ``(3, H, W)``."""

    def __init__(self, size: int | None) -> None:
        self.size = size
        # Square: conservative for any aspect ratio (the longer side becomes `size`).
        self.draft = (REDUCING_GAP * size,) * 2 if size else None

    def __call__(self, images: list[Image.Image], paths: Sequence[Path]) -> tuple[Tensor, ...]:
        image = pil_to_tensor(resized(images[0], self.size, str(paths[0])))[0]
        return ((image * 255).round().to(torch.uint8),)


def to_uint8(image: Tensor) -> Tensor:
    """``(1, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]`` → uint8 ``(3, H, W)`` (exact for 8-bit
    images)."""
    return (image.reshape(3, *image.shape[-2:]) * 255).round().to(torch.uint8)


class StyleImages(FileBacked):
    """Style images, read per crop from a folder or held in memory (see the module docstring)."""

    def __init__(
        self,
        store: DecodedFiles | None = None,
        images: Sequence[Tensor] = (),
        *,
        note: str = "",
    ) -> None:
        self.store = store
        self.stores = [store] if store is not None else []
        self.images = [to_uint8(i) for i in images]
        self.storage_note = note

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        size: int | None,
        *,
        what: str = "style",
        cache: str | bool = "auto",
        cache_budget_mb: float = CACHE_BUDGET_MB,
        max_unreadable: float = MAX_UNREADABLE,
    ) -> StyleImages:
        """The image at ``path``, or every image in the folder ``path`` (listed, not decoded,
        unless the folder fits the cache budget)."""
        owner = f"the {what} folder"
        check_store_options(cache, cache_budget_mb, max_unreadable, owner)
        root = Path(path).expanduser()
        if not root.is_dir():
            if not root.exists():
                raise DataError(f"the {what} image {str(root)!r} does not exist; check the path")
            return cls(images=[load_image(root, size)], note=f"{what} image {str(root)!r}")
        files = find_images(root)
        if not files:
            raise DataError(
                f"the {what} folder {str(root)!r} has no images; put PNG/JPEG files in it"
            )
        # An upper bound: the longer side is `size`; the image's own size when none is given.
        decoded = len(files) * 3 * (size or 512) ** 2
        use_cache, why = choose_cache(cache, decoded, cache_budget_mb)
        store = DecodedFiles(
            [(f,) for f in files],
            StyleConvert(size),
            cache=use_cache,
            max_unreadable=max_unreadable,
            where=f"the {what} folder {str(root)!r}",
            owner=owner,
            stack=False,
        )
        held = "held in memory" if use_cache else "streamed from disk"
        note = f"{len(store):,} {what} images in {str(root)!r}, {held} ({why})"
        return cls(store, note=note)

    def __len__(self) -> int:
        return len(self.store) if self.store is not None else len(self.images)

    def image(self, index: int) -> Tensor:
        """Style image ``index`` as uint8 ``(3, H, W)`` (the next readable one when it cannot be
        read: see :class:`~.decoded_files.DecodedFiles`)."""
        if self.store is None:
            return self.images[index]
        return self.store.get(index)[1][0]

    def __iter__(self) -> Iterator[Tensor]:
        """Every style image as ``(1, 3, H, W)`` in ``[0, 1]``, one at a time (decoded in turn:
        for statistics over the whole set, such as a mean Gram matrix)."""
        for i in range(len(self)):
            yield self.image(i).float().div(255).unsqueeze(0)

    def smallest_side(self) -> int | None:
        """The shortest side of the images, when they are in memory (``None`` when streamed)."""
        if self.streamed:
            return None
        held = self.images if self.store is None else self.store.parts[0]
        return min(min(i.shape[-2:]) for i in held)

    def crop(self, size: int, generator: torch.Generator | None) -> Tensor:
        """A random ``size``² crop of a random style image, ``(3, size, size)`` in ``[0, 1]``; an
        image shorter than ``size`` is first scaled up to cover it (bilinear)."""
        pick = int(torch.randint(len(self), (1,), generator=generator))
        image = self.image(pick).float().div(255).unsqueeze(0)
        if min(image.shape[-2:]) < size:
            scale = size / min(image.shape[-2:]) + 1e-6
            image = F.interpolate(image, scale_factor=scale, mode="bilinear", align_corners=False)
        h, w = image.shape[-2:]
        y = int(torch.randint(h - size + 1, (1,), generator=generator))
        x = int(torch.randint(w - size + 1, (1,), generator=generator))
        return image[0, :, y : y + size, x : x + size]
