"""Unpaired images for CycleGAN: ``root/trainA/`` and ``root/trainB/``, as the reference.

``split = "test"`` reads ``testA/``/``testB/``; a split that does not exist is
an error listing those that do. The domains may differ in size and in file
names; an epoch is the larger domain (see :class:`ImagePairs`). Files are
listed at start-up and read per sample (streamed) unless both decoded domains
fit the cache budget (see :mod:`.decoded_files`). Unreadable files are skipped
and counted (``skipped``); an empty or missing domain is an error that names
the folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import find_images

from .decoded_files import (
    CACHE_BUDGET_MB,
    MAX_UNREADABLE,
    REDUCING_GAP,
    DecodedFiles,
    FileBacked,
    check_store_options,
    choose_cache,
)
from .image_pairs import ImagePairs, check_sizes, to_uint8

__all__ = ["UnpairedFolder"]


class DomainConvert:
    """One file as a uint8 tensor at ``size``²."""

    def __init__(self, size: int, channels: int) -> None:
        self.size, self.channels = size, channels
        self.draft = (REDUCING_GAP * size,) * 2

    def __call__(self, images: list[Image.Image], paths: Sequence[Path]) -> tuple[Tensor, ...]:
        return (to_uint8(images[0], self.size, self.channels),)


def _splits(root: Path) -> list[str]:
    """The splits of ``root``: names ``X`` with both ``XA/`` and ``XB/`` folders."""
    names = {p.name for p in root.iterdir() if p.is_dir()}
    return sorted(n[:-1] for n in names if n.endswith("A") and n[:-1] + "B" in names and n[:-1])


class UnpairedFolder(FileBacked, ImagePairs):
    """Domain A from ``root/<split>A/``, domain B from ``root/<split>B/``."""

    def __init__(
        self,
        root: str | Path,
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        split: str = "train",
        cache: str | bool = "auto",
        cache_budget_mb: float = CACHE_BUDGET_MB,
        max_unreadable: float = MAX_UNREADABLE,
    ) -> None:
        owner = "unpaired data"
        load_size = check_sizes(image_size, load_size, channels, owner)
        check_store_options(cache, cache_budget_mb, max_unreadable, owner)
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"{owner}: data folder {str(root)!r} does not exist or is not a folder")
        listed = []
        for side in "AB":
            folder = root / f"{split}{side}"
            if not folder.is_dir():
                others = [s for s in _splits(root) if s != split]
                there = f"; the splits there are {', '.join(others)}" if others else ""
                raise DataError(
                    f"{owner}: {str(root)!r} has no {split}{side}/ folder; put domain A's images "
                    f"in {split}A/ and domain B's in {split}B/{there}"
                )
            files = find_images(folder)
            if not files:
                raise DataError(f"{owner}: {str(folder)!r} has no images; the domain is empty")
            listed.append((folder, files))
        count = sum(len(files) for _, files in listed)
        use_cache, why = choose_cache(cache, count * channels * load_size**2, cache_budget_mb)
        self.stores = [
            DecodedFiles(
                [(f,) for f in files],
                DomainConvert(load_size, channels),
                cache=use_cache,
                max_unreadable=max_unreadable,
                where=repr(str(folder)),
                owner=owner,
            )
            for folder, files in listed
        ]
        sizes = (len(self.stores[0]), len(self.stores[1]))
        self._setup(sizes, (channels, channels), paired=False, image_size=image_size, flip=flip)
        self.root = root
        held = "held in memory" if use_cache else "streamed from disk"
        self.storage_note = (
            f"{sizes[0]:,} A and {sizes[1]:,} B images in {str(root)!r}, {held} ({why})"
        )

    def _sources(self, index: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        store_a, store_b = self.stores
        _, (a,) = store_a.get(index % len(store_a))
        _, (b,) = store_b.get(int(torch.randint(0, len(store_b), (), generator=generator)))
        return a, b
