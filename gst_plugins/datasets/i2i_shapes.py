"""Built-in image-to-image data drawn in code, so pix2pix and CycleGAN run offline.

* ``paired_shapes`` (pix2pix): A is the coloured outline of a shape (circle,
  square, triangle or diamond at a random place and size), B the same shape
  filled with that colour: "outline → filled", a small sketch → photo.
* ``unpaired_shapes`` (CycleGAN): domain A ("day") has warm-coloured shapes on
  a light sky, domain B ("night") cool-coloured shapes on a dark sky. The two
  domains are drawn independently, so no image has a partner.

Both are deterministic in ``seed``; ``split = "test"`` draws a disjoint
held-out set. 1000 images at 32² take about a second.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch
from PIL import Image, ImageDraw

from gst_core.errors import DataError

from .image_pairs import ImagePairs

__all__ = ["PairedShapes", "UnpairedShapes", "draw_shape"]

SHAPES = ("circle", "square", "triangle", "diamond")
_SCALE = 4  # drawn 4× larger, then box-downsampled: anti-aliased edges
_TEST_SEED_OFFSET = 1_000_003  # "test" images come from another stream than "train"


def _points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]  # diamond


def draw_shape(
    size: int,
    shape: str,
    centre: tuple[float, float],
    radius: float,
    colour: tuple[int, int, int],
    background: tuple[int, int, int],
    *,
    filled: bool,
) -> np.ndarray:
    """One ``size``² RGB image (uint8 HWC); centre and radius in fractions of the side."""
    big = size * _SCALE
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    cx, cy, r = centre[0] * big, centre[1] * big, radius * big
    line = round(1.5 * _SCALE)  # 1.5 px once downsampled
    fill = colour if filled else None
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=colour, width=line)
    else:
        draw.polygon(_points(shape, cx, cy, r), fill=fill, outline=colour, width=line)
    return np.asarray(image.resize((size, size), Image.Resampling.BOX))


def _hue_colour(rng: np.random.Generator, hues: tuple[float, float]) -> tuple[int, int, int]:
    h = rng.uniform(*hues) / 360.0
    rgb = colorsys.hsv_to_rgb(h % 1.0, rng.uniform(0.7, 1.0), rng.uniform(0.8, 1.0))
    return tuple(int(round(255 * v)) for v in rgb)  # type: ignore[return-value]


def _geometry(rng: np.random.Generator) -> tuple[str, tuple[float, float], float]:
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    radius = rng.uniform(0.2, 0.35)
    centre = tuple(rng.uniform(radius + 0.04, 1 - radius - 0.04, size=2))
    return shape, centre, radius  # type: ignore[return-value]


def _check(image_size: int, count: int, split: str, owner: str) -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise DataError(f"{owner}: image_size must be an integer >= 8, got {image_size!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise DataError(f"{owner}: count must be a positive integer, got {count!r}")
    if split not in ("train", "test"):
        raise DataError(f"{owner}: split must be 'train' or 'test', got {split!r}")


def _stack(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


class PairedShapes(ImagePairs):
    """``count`` pairs: A a coloured outline, B the filled shape (``(3, S, S)`` each)."""

    def __init__(
        self,
        image_size: int = 32,
        count: int = 1000,
        seed: int = 0,
        split: str = "train",
        flip: bool = True,
    ) -> None:
        _check(image_size, count, split, "paired_shapes")
        rng = np.random.default_rng(seed + (_TEST_SEED_OFFSET if split == "test" else 0))
        a, b = [], []
        for _ in range(count):
            shape, centre, radius = _geometry(rng)
            colour = _hue_colour(rng, (0.0, 360.0))
            background = tuple(int(v) for v in rng.integers(10, 40, size=3))
            drawn = [
                draw_shape(image_size, shape, centre, radius, colour, background, filled=filled)
                for filled in (False, True)
            ]
            a.append(drawn[0])
            b.append(drawn[1])
        super().__init__(_stack(a), _stack(b), paired=True, image_size=image_size, flip=flip)


class UnpairedShapes(ImagePairs):
    """``count`` "day" images (A) and ``count`` "night" images (B), drawn independently."""

    def __init__(
        self,
        image_size: int = 32,
        count: int = 500,
        seed: int = 0,
        split: str = "train",
        flip: bool = True,
    ) -> None:
        _check(image_size, count, split, "unpaired_shapes")
        rng = np.random.default_rng(seed + (_TEST_SEED_OFFSET if split == "test" else 0))
        domains = []
        for hues, sky in (((-30.0, 50.0), (165, 200, 240)), ((180.0, 280.0), (15, 20, 45))):
            images = []
            for _ in range(count):
                shape, centre, radius = _geometry(rng)
                background = tuple(int(np.clip(v + rng.integers(-15, 16), 0, 255)) for v in sky)
                colour = _hue_colour(rng, hues)
                images.append(
                    draw_shape(image_size, shape, centre, radius, colour, background, filled=True)
                )
            domains.append(_stack(images))
        super().__init__(*domains, paired=False, image_size=image_size, flip=flip)
