"""Paired images for pix2pix, in the layouts of the pix2pix/CycleGAN code.

* ``root/A/`` and ``root/B/`` holding files with matching names (``A/001.jpg``
  pairs with ``B/001.png``: matched by relative path without the suffix);
* or side-by-side ``AB`` images directly in the folder (A left, B right), the
  layout of the reference's ``facades``/``edges2shoes`` downloads. An odd width
  leaves one column over; the last one is dropped, with a warning.

``split`` (e.g. ``"train"``) reads ``root/<split>/``, as the reference's
``--phase`` does; a split that does not exist is an error listing those that
do. Left out, ``root/train/`` is used when it exists, else ``root`` itself.
``direction = "b2a"`` swaps the domains. Unmatched files, and two files of one
name in a domain (``a.png`` and ``a.jpg``), are errors that name them.

Files are listed at start-up and read per sample (streamed) unless the
decoded set fits the cache budget (see :mod:`.decoded_files`); unreadable
files are skipped and counted (``skipped``).
"""

from __future__ import annotations

import warnings
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

__all__ = ["PairedFolder"]

DIRECTIONS = ("a2b", "b2a")


def _resolve_root(root: str | Path, split: str | None, owner: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{owner}: data folder {str(root)!r} does not exist or is not a folder")
    if split is None:
        return root / "train" if (root / "train").is_dir() else root
    if (root / split).is_dir():
        return root / split
    # Never fall back to the whole root: it would mix the test split into training.
    splits = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in ("A", "B")
    )
    there = (
        f"the splits there are {', '.join(splits)}"
        if splits
        else "it has no split folders; leave split out to use the folder itself"
    )
    raise DataError(f"{owner}: {str(root)!r} has no {split}/ folder for split = {split!r}; {there}")


def _key(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder).with_suffix(""))


def _by_key(folder: Path, owner: str) -> dict[str, Path]:
    """The images of ``folder`` by name without suffix; two files of one name are an error."""
    files: dict[str, Path] = {}
    clashes = []
    for path in find_images(folder):
        key = _key(path, folder)
        if key in files:
            clashes.append(f"{files[key].name} and {path.name}")
        else:
            files[key] = path
    if clashes:
        shown = "; ".join(clashes[:3]) + ("; ..." if len(clashes) > 3 else "")
        raise DataError(
            f"{owner}: {str(folder)!r} has {len(clashes)} name(s) used by two files ({shown}); "
            "A and B are matched by name without the suffix, so each name may appear once. "
            "Remove or rename one of each"
        )
    return files


class PairedConvert:
    """An A/B record (two files, or one side-by-side image) as two uint8 tensors."""

    def __init__(self, size: int, channels: int, side_by_side: bool) -> None:
        self.size, self.channels, self.side_by_side = size, channels, side_by_side
        side = REDUCING_GAP * size
        self.draft = (2 * side if side_by_side else side, side)
        self.warned_odd = False

    def __call__(self, images: list[Image.Image], paths: Sequence[Path]) -> tuple[Tensor, ...]:
        if not self.side_by_side:
            return tuple(to_uint8(im, self.size, self.channels) for im in images)
        (image,), (path,) = images, paths
        w, h = image.size
        if w < 2:
            raise ValueError(f"{path.name} is {w} px wide: too narrow to hold A and B side by side")
        half = w // 2
        if w % 2 and not self.warned_odd:
            self.warned_odd = True
            warnings.warn(
                f"side-by-side image {str(path)!r} is {w} px wide, an odd width: its last column "
                f"is dropped so that A and B are {half} px each (further odd widths in this "
                "folder are not reported)",
                stacklevel=2,
            )
        return (
            to_uint8(image.crop((0, 0, half, h)), self.size, self.channels),
            to_uint8(image.crop((half, 0, 2 * half, h)), self.size, self.channels),
        )


class PairedFolder(FileBacked, ImagePairs):
    """Pairs from ``root`` (``A/`` + ``B/``, or side-by-side ``AB`` images)."""

    def __init__(
        self,
        root: str | Path,
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        direction: str = "a2b",
        split: str | None = None,
        cache: str | bool = "auto",
        cache_budget_mb: float = CACHE_BUDGET_MB,
        max_unreadable: float = MAX_UNREADABLE,
    ) -> None:
        owner = "paired data"
        load_size = check_sizes(image_size, load_size, channels, owner)
        check_store_options(cache, cache_budget_mb, max_unreadable, owner)
        if direction not in DIRECTIONS:
            raise DataError(f"{owner}: direction must be a2b or b2a, got {direction!r}")
        folder = _resolve_root(root, split, owner)
        if (folder / "A").is_dir() or (folder / "B").is_dir():
            records = self._folder_records(folder, owner)
        else:
            records = self._side_by_side_records(folder, owner)
        use_cache, why = choose_cache(
            cache, len(records) * 2 * channels * load_size**2, cache_budget_mb
        )
        self.store = DecodedFiles(
            records,
            PairedConvert(load_size, channels, side_by_side=len(records[0]) == 1),
            cache=use_cache,
            max_unreadable=max_unreadable,
            where=repr(str(folder)),
            owner=owner,
        )
        self.stores = [self.store]
        self.swap = direction == "b2a"
        self._setup(
            (len(self.store), len(self.store)),
            (channels, channels),
            paired=True,
            image_size=image_size,
            flip=flip,
        )
        self.root = folder
        held = "held in memory" if use_cache else "streamed from disk"
        self.storage_note = f"{len(self.store):,} pairs in {str(folder)!r}, {held} ({why})"

    def _sources(self, index: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        _, (a, b) = self.store.get(index)
        return (b, a) if self.swap else (a, b)

    @staticmethod
    def _folder_records(folder: Path, owner: str) -> list[tuple[Path, ...]]:
        dir_a, dir_b = folder / "A", folder / "B"
        for d in (dir_a, dir_b):
            if not d.is_dir():
                raise DataError(
                    f"{owner}: {str(folder)!r} has {'A' if d is dir_b else 'B'}/ but no "
                    f"{d.name}/ folder; put the paired images in A/ and B/ with matching names"
                )
        files_a, files_b = _by_key(dir_a, owner), _by_key(dir_b, owner)
        for d, files in ((dir_a, files_a), (dir_b, files_b)):
            if not files:
                raise DataError(f"{owner}: {str(d)!r} has no images; the domain is empty")
        only_a, only_b = sorted(set(files_a) - set(files_b)), sorted(set(files_b) - set(files_a))
        if only_a or only_b:
            parts = []
            for side, names in (("A", only_a), ("B", only_b)):
                if names:
                    other = "B" if side == "A" else "A"
                    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
                    parts.append(f"{len(names)} in {side}/ without a match in {other}/ ({shown})")
            raise DataError(
                f"{owner}: unmatched pairs in {str(folder)!r}: {'; '.join(parts)}. Each file "
                "in A/ needs a file of the same name (any image suffix) in B/"
            )
        return [(files_a[k], files_b[k]) for k in sorted(files_a)]

    @staticmethod
    def _side_by_side_records(folder: Path, owner: str) -> list[tuple[Path, ...]]:
        files = find_images(folder)
        if not files:
            raise DataError(
                f"{owner}: no images in {str(folder)!r}; use A/ and B/ folders with matching "
                "names, or side-by-side AB images (A left, B right)"
            )
        return [(f,) for f in files]
