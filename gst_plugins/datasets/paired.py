"""Paired images for pix2pix, in the layouts of the pix2pix/CycleGAN code.

* ``root/A/`` and ``root/B/`` holding files with matching names (``A/001.jpg``
  pairs with ``B/001.png``: matched by relative path without the suffix);
* or side-by-side ``AB`` images directly in the folder (A left, B right), the
  layout of the reference's ``facades``/``edges2shoes`` downloads.

``split`` (e.g. ``"train"``) looks in ``root/<split>/`` when that exists, as
the reference's ``--phase`` does. ``direction = "b2a"`` swaps the domains.
Unmatched files are an error that names them; unreadable files are skipped
and counted (``skipped``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from gst_core.errors import DataError
from gst_core.images import find_images

from .image_pairs import (
    UNREADABLE,
    ImagePairs,
    _to_uint8,
    check_sizes,
    read_image,
    read_images,
    warn_skipped,
)

__all__ = ["PairedFolder"]

DIRECTIONS = ("a2b", "b2a")


def _resolve_root(root: str | Path, split: str | None, owner: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{owner}: data folder {str(root)!r} does not exist or is not a folder")
    if split and (root / split).is_dir():
        return root / split
    return root


def _key(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder).with_suffix(""))


class PairedFolder(ImagePairs):
    """Pairs from ``root`` (``A/`` + ``B/``, or side-by-side ``AB`` images)."""

    def __init__(
        self,
        root: str | Path,
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        direction: str = "a2b",
        split: str | None = "train",
    ) -> None:
        owner = "paired data"
        load_size = check_sizes(image_size, load_size, channels, owner)
        if direction not in DIRECTIONS:
            raise DataError(f"{owner}: direction must be a2b or b2a, got {direction!r}")
        folder = _resolve_root(root, split, owner)
        if (folder / "A").is_dir() or (folder / "B").is_dir():
            a, b, skipped, total = self._from_folders(folder, load_size, channels, owner)
        else:
            a, b, skipped, total = self._from_side_by_side(folder, load_size, channels, owner)
        warn_skipped(skipped, total, repr(str(folder)))
        if not a:
            raise DataError(
                f"{owner}: none of the {total} image file(s) in {str(folder)!r} could be read "
                f"(first: {skipped[0].name})"
            )
        if direction == "b2a":
            a, b = b, a
        super().__init__(
            torch.stack(a), torch.stack(b), paired=True, image_size=image_size, flip=flip
        )
        self.root = folder
        self.skipped = skipped

    @staticmethod
    def _from_folders(folder: Path, size: int, channels: int, owner: str):
        dir_a, dir_b = folder / "A", folder / "B"
        for d in (dir_a, dir_b):
            if not d.is_dir():
                raise DataError(
                    f"{owner}: {str(folder)!r} has {'A' if d is dir_b else 'B'}/ but no "
                    f"{d.name}/ folder; put the paired images in A/ and B/ with matching names"
                )
        files_a = {_key(p, dir_a): p for p in find_images(dir_a)}
        files_b = {_key(p, dir_b): p for p in find_images(dir_b)}
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
        keys = sorted(files_a)
        a, skipped_a = read_images([files_a[k] for k in keys], size, channels, owner)
        b, skipped_b = read_images([files_b[k] for k in keys], size, channels, owner)
        keep = [i for i in range(len(keys)) if a[i] is not None and b[i] is not None]
        skipped = skipped_a + skipped_b
        return [a[i] for i in keep], [b[i] for i in keep], skipped, 2 * len(keys)

    @staticmethod
    def _from_side_by_side(folder: Path, size: int, channels: int, owner: str):
        files = find_images(folder)
        if not files:
            raise DataError(
                f"{owner}: no images in {str(folder)!r}; use A/ and B/ folders with matching "
                "names, or side-by-side AB images (A left, B right)"
            )
        a, b, skipped = [], [], []
        for path in files:
            try:
                image = read_image(path)
            except UNREADABLE:
                skipped.append(path)
                continue
            w, h = image.size
            if w < 2:
                skipped.append(path)
                continue
            half = w // 2
            a.append(_to_uint8(image.crop((0, 0, half, h)), size, channels))
            b.append(_to_uint8(image.crop((half, 0, 2 * half, h)), size, channels))
        return a, b, skipped, len(files)
