"""``content_photos``: a built-in, offline set of content images for feed-forward style training.

Feed-forward style networks learn from many content images (Johnson et al. used
COCO). None can be downloaded here, so this set is made on the machine:

* random crops (position, scale, mirror) of the two photographs scikit-learn
  ships (``load_sample_images``: a Chinese temple and a flower), when
  scikit-learn is installed (the ``dev``/``sklearn`` extras);
* drawn scenes: a sky gradient, hills, and random houses, trees, suns and
  blocks, with some blur and grain, so the set exists without scikit-learn.

Everything is deterministic for a given ``seed``. Items are ``(image, -1)``
with images ``(3, image_size, image_size)`` in ``[-1, 1]``, as the ``folder``
dataset yields, so ``[data] name = "folder"`` can replace it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from gst_core.errors import DataError

from .in_memory import InMemoryImages

__all__ = ["ContentPhotos", "drawn_scene", "photo_crops"]


def drawn_scene(size: int, rng: np.random.Generator) -> Image.Image:
    """A random landscape ``size`` × ``size``: sky, hills and a few objects."""
    y = np.linspace(0.0, 1.0, size)[:, None, None]
    top = rng.uniform(20, 160, 3)
    horizon = np.clip(top + rng.uniform(40, 120, 3), 0, 255)
    sky = (top + (horizon - top) * y) * np.ones((1, size, 1))
    image = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)

    def colour(lo: int = 20, hi: int = 250) -> tuple[int, int, int]:
        return tuple(int(v) for v in rng.integers(lo, hi, 3))  # type: ignore[return-value]

    if rng.random() < 0.6:  # a sun or moon
        r = rng.uniform(0.04, 0.1) * size
        cx, cy = rng.uniform(0.1, 0.9) * size, rng.uniform(0.05, 0.35) * size
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour(150, 256))
    xs = np.arange(size + 1)
    for level in sorted(rng.uniform(0.4, 0.85, int(rng.integers(1, 4)))):
        amp, freq, phase = rng.uniform(0.02, 0.12) * size, rng.uniform(0.5, 3), rng.uniform(0, 6)
        ridge = level * size - amp * np.sin(xs / size * 2 * math.pi * freq + phase)
        points = [(0, size)] + list(zip(xs.tolist(), ridge.tolist(), strict=True)) + [(size, size)]
        draw.polygon(points, fill=colour(10, 200))
    for _ in range(int(rng.integers(2, 8))):
        w, h = rng.uniform(0.06, 0.3, 2) * size
        x0, y0 = rng.uniform(-0.1, 0.95) * size, rng.uniform(0.3, 0.9) * size
        kind = rng.integers(4)
        if kind == 0:  # a house: walls, roof, window
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour())
            draw.polygon(
                [(x0 - w * 0.1, y0), (x0 + w / 2, y0 - h * 0.6), (x0 + w * 1.1, y0)],
                fill=colour(20, 160),
            )
            draw.rectangle(
                [x0 + w * 0.2, y0 + h * 0.2, x0 + w * 0.45, y0 + h * 0.45], fill=colour(150, 256)
            )
        elif kind == 1:  # a tree: trunk and crown
            draw.rectangle([x0 + w * 0.4, y0, x0 + w * 0.6, y0 + h], fill=colour(40, 120))
            draw.ellipse([x0, y0 - h * 0.7, x0 + w, y0 + h * 0.2], fill=colour(10, 160))
        elif kind == 2:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour())
        else:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour(), outline=colour(), width=2)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    grain = rng.normal(0, rng.uniform(2, 8), (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(image) + grain, 0, 255).astype(np.uint8), "RGB")


def photo_crops(count: int, size: int, rng: np.random.Generator) -> list[Image.Image]:
    """``count`` random square crops of scikit-learn's sample photos; [] without scikit-learn."""
    try:
        from sklearn.datasets import load_sample_images
    except ImportError:
        return []
    photos = [Image.fromarray(a) for a in load_sample_images().images]
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        side = int(rng.uniform(0.35, 1.0) * min(photo.size))
        x0 = int(rng.integers(0, photo.width - side + 1))
        y0 = int(rng.integers(0, photo.height - side + 1))
        crop = photo.crop((x0, y0, x0 + side, y0 + side)).resize(
            (size, size), Image.Resampling.LANCZOS
        )
        crops.append(
            crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else crop
        )
    return crops


class ContentPhotos(InMemoryImages):
    """``count`` content images at ``image_size``²: photo crops (``photo_fraction`` of them,
    when scikit-learn is installed) and drawn scenes."""

    def __init__(
        self, image_size: int = 128, count: int = 256, photo_fraction: float = 0.5, seed: int = 0
    ) -> None:
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 16:
            raise DataError(
                f"content_photos: image_size must be an integer >= 16, got {image_size!r}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise DataError(f"content_photos: count must be an integer >= 1, got {count!r}")
        if not 0.0 <= photo_fraction <= 1.0:
            raise DataError(
                f"content_photos: photo_fraction must be in [0, 1], got {photo_fraction}"
            )
        rng = np.random.default_rng(seed)
        images = photo_crops(round(count * photo_fraction), image_size, rng)
        images += [drawn_scene(image_size, rng) for _ in range(count - len(images))]
        stacked = torch.from_numpy(np.stack([np.asarray(im) for im in images])).permute(0, 3, 1, 2)
        super().__init__(stacked.contiguous())
