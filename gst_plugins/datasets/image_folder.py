"""A folder of the user's images, with or without class subfolders.

``root/*.png`` is unlabelled data; ``root/<class>/**/*.jpg`` is labelled, one
class per subfolder (sorted by name, as torchvision's ``ImageFolder``).
Any size and any format Pillow reads: each image is centre-cropped to a
square and resized to ``image_size``. Unreadable files are skipped and
counted (``skipped``), with a warning naming the first few.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from gst_core.errors import DataError
from gst_core.images import find_images, image_suffixes, pil_to_tensor, to_rgb

from .in_memory import InMemoryImages

__all__ = ["ImageFolder"]


def _load(path: Path, image_size: int) -> torch.Tensor:
    with Image.open(path) as opened:
        opened.load()
        image = ImageOps.exif_transpose(opened) or opened
        # The same conversion as load_image: a plain convert("RGB") clips 16-bit
        # grayscale to white and turns fully transparent pixels black.
        image = ImageOps.fit(to_rgb(image), (image_size, image_size), Image.Resampling.LANCZOS)
    return (pil_to_tensor(image)[0] * 255).round().to(torch.uint8)


class ImageFolder(InMemoryImages):
    """Every readable image under ``root``, decoded once and held in memory as uint8
    (32 MB for 10 000 RGB images at 32²; 120 MB at 64²)."""

    def __init__(self, root: str | Path, image_size: int = 64, channels: int = 3) -> None:
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DataError(f"image folder {str(root)!r} does not exist or is not a folder")
        if channels not in (1, 3):
            raise DataError(f"channels must be 1 or 3, got {channels}")
        subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        labelled = [(d, find_images(d)) for d in subfolders]
        labelled = [(d, files) for d, files in labelled if files]
        if labelled:
            classes = [d.name for d, _ in labelled]
            files = [(f, i) for i, (_, fs) in enumerate(labelled) for f in fs]
            loose = [
                p for p in root.iterdir() if p.is_file() and p.suffix.lower() in image_suffixes()
            ]
            if loose:
                warnings.warn(
                    f"{len(loose)} image(s) directly in {str(root)!r} are ignored: with class "
                    "subfolders present, every image must be in one",
                    stacklevel=2,
                )
        else:
            classes = []
            files = [(f, -1) for f in find_images(root)]
        if not files:
            raise DataError(
                f"no images found in {str(root)!r}; put images (PNG, JPEG, ...) in it, or one "
                "subfolder of images per class"
            )
        images, labels, skipped = [], [], []
        for path, label in files:
            try:
                images.append(_load(path, image_size))
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
                skipped.append((path, exc))
                continue
            labels.append(label)
        self.root = root
        self.skipped = [p for p, _ in skipped]
        if skipped:
            first = ", ".join(f"{p.name} ({type(e).__name__})" for p, e in skipped[:3])
            warnings.warn(
                f"skipped {len(skipped)} unreadable image(s) of {len(files)} in {str(root)!r}: "
                f"{first}{', ...' if len(skipped) > 3 else ''}",
                stacklevel=2,
            )
        if not images:
            raise DataError(
                f"none of the {len(files)} image file(s) in {str(root)!r} could be read "
                f"(first: {skipped[0][0].name}: {skipped[0][1]})"
            )
        stacked = torch.stack(images)
        if channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            stacked = (stacked.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
        super().__init__(stacked, torch.tensor(labels), classes)
