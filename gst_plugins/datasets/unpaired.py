"""Unpaired images for CycleGAN: ``root/trainA/`` and ``root/trainB/``, as the reference.

``split = "test"`` reads ``testA/``/``testB/``. The domains may differ in size
and in file names; an epoch is the larger domain (see :class:`ImagePairs`).
Unreadable files are skipped and counted (``skipped``); an empty or missing
domain is an error that names the folder.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gst_core.errors import DataError
from gst_core.images import find_images

from .image_pairs import ImagePairs, check_sizes, read_images, warn_skipped

__all__ = ["UnpairedFolder"]


class UnpairedFolder(ImagePairs):
    """Domain A from ``root/<split>A/``, domain B from ``root/<split>B/``."""

    def __init__(
        self,
        root: str | Path,
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        split: str = "train",
    ) -> None:
        owner = "unpaired data"
        load_size = check_sizes(image_size, load_size, channels, owner)
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"{owner}: data folder {str(root)!r} does not exist or is not a folder")
        domains, skipped = [], []
        for side in "AB":
            folder = root / f"{split}{side}"
            if not folder.is_dir():
                raise DataError(
                    f"{owner}: {str(root)!r} has no {split}{side}/ folder; put domain A's images "
                    f"in {split}A/ and domain B's in {split}B/"
                )
            files = find_images(folder)
            if not files:
                raise DataError(f"{owner}: {str(folder)!r} has no images; the domain is empty")
            images, bad = read_images(files, load_size, channels, owner)
            warn_skipped(bad, len(files), repr(str(folder)))
            images = [t for t in images if t is not None]
            if not images:
                raise DataError(
                    f"{owner}: none of the {len(files)} image file(s) in {str(folder)!r} could "
                    f"be read (first: {bad[0].name})"
                )
            domains.append(torch.stack(images))
            skipped += bad
        super().__init__(*domains, paired=False, image_size=image_size, flip=flip)
        self.root = root
        self.skipped = skipped
