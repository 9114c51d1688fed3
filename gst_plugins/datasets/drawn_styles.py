"""``drawn_styles``: a built-in, offline set of varied style images for arbitrary-style training.

An AdaIN decoder must see many styles to stylise with ones it never saw
(Huang & Belongie used WikiArt's 80,000 paintings). None can be downloaded
here, so the styles are drawn on the machine, each with its own random
palette and one of five textures: flowing brush strokes (around random
vortices), dots, stripes at an angle, a mosaic of cells, and blurred colour
blobs. Deterministic for a ``seed``; items are ``(image, -1)`` with images
``(3, image_size, image_size)`` in ``[-1, 1]``, as the ``folder`` dataset
yields.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from gst_core.errors import DataError

from .in_memory import InMemoryImages

__all__ = ["DrawnStyles", "drawn_style"]

KINDS = ("strokes", "dots", "stripes", "mosaic", "blobs")


def _palette(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    base = rng.uniform(0, 255, 3)
    colours = [np.clip(base + rng.normal(0, 70, 3), 0, 255) for _ in range(int(rng.integers(3, 7)))]
    return [tuple(int(v) for v in c) for c in colours]  # type: ignore[misc]


def drawn_style(size: int, rng: np.random.Generator, kind: str | None = None) -> Image.Image:
    """One random style image ``size`` × ``size`` of ``kind`` (random when ``None``)."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    palette = _palette(rng)
    pick = lambda: palette[int(rng.integers(len(palette)))]  # noqa: E731
    image = Image.new("RGB", (size, size), pick())
    draw = ImageDraw.Draw(image)
    width = max(1, round(size * rng.uniform(0.01, 0.04)))
    if kind == "strokes":
        centres = rng.uniform(0, 1, (int(rng.integers(1, 4)), 2))
        spins = rng.choice([-1.0, 1.0], len(centres))
        for _ in range(int(size * size / (width * 30))):
            x, y = rng.uniform(0, size, 2)
            points = [(x, y)]
            for _ in range(int(rng.integers(3, 8))):
                vx, vy = 0.3, 0.1
                for (cx, cy), spin in zip(centres, spins, strict=True):
                    dx, dy = x / size - cx, y / size - cy
                    r2 = dx * dx + dy * dy + 0.02
                    vx, vy = vx - spin * dy / r2 * 0.1, vy + spin * dx / r2 * 0.1
                norm = math.hypot(vx, vy) or 1.0
                x, y = x + vx / norm * width * 2.5, y + vy / norm * width * 2.5
                points.append((x, y))
            draw.line(points, fill=pick(), width=width, joint="curve")
    elif kind == "dots":
        for _ in range(int(size * size / (width * width * 6))):
            x, y = rng.uniform(0, size, 2)
            r = width * rng.uniform(0.5, 1.5)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=pick())
    elif kind == "stripes":
        angle = rng.uniform(0, math.pi)
        step = width * rng.uniform(1.5, 3)
        dx, dy = math.cos(angle) * size * 2, math.sin(angle) * size * 2
        nx, ny = -math.sin(angle), math.cos(angle)
        for k in range(-int(size * 1.5 / step), int(size * 1.5 / step)):
            cx, cy = size / 2 + nx * k * step, size / 2 + ny * k * step
            draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=pick(), width=width)
    elif kind == "mosaic":
        cell = max(2, round(size * rng.uniform(0.04, 0.12)))
        for y0 in range(0, size, cell):
            for x0 in range(0, size, cell):
                jitter = rng.integers(-cell // 4, cell // 4 + 1, 2)
                draw.rectangle([x0 + jitter[0], y0 + jitter[1], x0 + cell, y0 + cell],
                               fill=pick(), outline=pick())  # fmt: skip
    else:  # blobs
        for _ in range(int(rng.integers(15, 40))):
            x, y = rng.uniform(0, size, 2)
            r = size * rng.uniform(0.05, 0.2)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=pick())
        image = image.filter(ImageFilter.GaussianBlur(size * 0.02))
    grain = rng.normal(0, rng.uniform(2, 10), (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(image) + grain, 0, 255).astype(np.uint8), "RGB")


class DrawnStyles(InMemoryImages):
    """``count`` drawn style images at ``image_size``², the textures taken in turn."""

    def __init__(self, image_size: int = 128, count: int = 40, seed: int = 0) -> None:
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 16:
            raise DataError(
                f"drawn_styles: image_size must be an integer >= 16, got {image_size!r}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise DataError(f"drawn_styles: count must be an integer >= 1, got {count!r}")
        rng = np.random.default_rng(seed)
        images = [drawn_style(image_size, rng, KINDS[i % len(KINDS)]) for i in range(count)]
        stacked = torch.from_numpy(np.stack([np.asarray(im) for im in images])).permute(0, 3, 1, 2)
        super().__init__(stacked.contiguous())
