"""Built-in sample images for ``gst stylize --demo``, drawn in code (nothing is downloaded).

Registered as the ``style_samples`` dataset: item 0 is the content image, item 1
the style image.

* :func:`sample_content` — a simple landscape: sky, sun, hills, a house and a tree.
  Flat regions and clear outlines, so a stylized result is easy to recognise.
* :func:`sample_style` — swirling brush strokes in a night-sky palette, in the
  spirit of van Gogh's *Starry Night*: strong colours and an obvious oriented
  texture, so the transfer is visible at a glance.

Both are deterministic (fixed seeds) and drawn at any size.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from gst_core.errors import DataError
from gst_core.images import pil_to_tensor
from gst_core.interfaces import ImageDataset

__all__ = ["StyleSamples", "sample_content", "sample_style"]


class StyleSamples(ImageDataset):
    """``(image, label)`` pairs: 0 the content landscape (``size`` × ``size·3/4``), 1 the
    swirling style (``size`` × ``size``); images ``(3, H, W)`` in ``[-1, 1]``."""

    classes = ("content", "style")
    num_classes = 2

    def __init__(self, size: int = 256) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 16:
            raise DataError(f"style_samples: size must be an integer >= 16, got {size!r}")
        self.size = size

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if index not in (0, 1, -1, -2):
            raise IndexError(index)
        index %= 2
        # Drawn at the requested size, so nothing is resampled.
        drawn = (
            sample_content(self.size, self.size * 3 // 4)
            if index == 0
            else sample_style(self.size, self.size)
        )
        return pil_to_tensor(drawn)[0] * 2 - 1, index


def sample_content(width: int = 384, height: int = 288) -> Image.Image:
    """A landscape with a house, ``width`` × ``height`` RGB."""
    s = width / 384.0
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    top, horizon = np.array([70, 130, 210]), np.array([190, 220, 245])
    sky = (top + (horizon - top) * y) * np.ones((1, width, 1))
    image = Image.fromarray(sky.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * s, y0 * s, x1 * s, y1 * s]

    draw.ellipse(box(290, 30, 340, 80), fill=(255, 215, 70))
    xs = np.arange(width + 1)
    far = 185 * s - 25 * s * np.sin(xs / width * 2 * math.pi * 1.2 + 0.5)
    near = 225 * s - 18 * s * np.sin(xs / width * 2 * math.pi * 0.7 + 2.0)
    draw.polygon(
        [(0, height)] + list(zip(xs, far, strict=True)) + [(width, height)], fill=(70, 140, 70)
    )
    draw.polygon(
        [(0, height)] + list(zip(xs, near, strict=True)) + [(width, height)], fill=(40, 105, 45)
    )
    draw.rectangle(box(120, 150, 220, 230), fill=(200, 60, 50))  # walls
    draw.polygon([(110 * s, 152 * s), (170 * s, 100 * s), (230 * s, 152 * s)], fill=(90, 45, 35))
    draw.rectangle(box(158, 188, 182, 230), fill=(60, 35, 25))  # door
    draw.rectangle(box(132, 165, 152, 185), fill=(250, 235, 150))  # windows
    draw.rectangle(box(188, 165, 208, 185), fill=(250, 235, 150))
    draw.rectangle(box(283, 170, 295, 235), fill=(95, 60, 30))  # tree
    draw.ellipse(box(255, 115, 323, 185), fill=(30, 90, 40))
    return image


def sample_style(width: int = 384, height: int = 384, seed: int = 0) -> Image.Image:
    """Swirling strokes over a dark blue ground, ``width`` × ``height`` RGB."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (20, 35, 90))
    draw = ImageDraw.Draw(image)
    palette = [
        (25, 60, 150),
        (40, 100, 190),
        (90, 160, 220),
        (230, 200, 60),
        (250, 235, 140),
        (15, 30, 70),
        (200, 225, 240),
    ]
    centres = [(0.3, 0.35, 1.0), (0.72, 0.6, -1.0), (0.5, 0.9, 1.0)]

    def flow(x: float, y: float) -> tuple[float, float]:
        # A sum of vortices: strokes circle around each centre.
        vx, vy = 0.35, 0.1
        for cx, cy, spin in centres:
            dx, dy = x / width - cx, y / height - cy
            r2 = dx * dx + dy * dy + 0.01
            vx += spin * -dy / r2 * 0.12
            vy += spin * dx / r2 * 0.12
        norm = math.hypot(vx, vy)
        return vx / norm, vy / norm

    stroke = max(2, round(width / 90))
    for _ in range(int(width * height / 90)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        colour = palette[rng.integers(len(palette))]
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 9))):
            vx, vy = flow(x, y)
            x, y = x + vx * stroke * 2.5, y + vy * stroke * 2.5
            points.append((x, y))
        draw.line(points, fill=colour, width=stroke, joint="curve")
    for _ in range(6):  # a few bright stars with halos
        cx, cy, r = (
            rng.uniform(0, width),
            rng.uniform(0, height * 0.6),
            rng.uniform(6, 14) * width / 384,
        )
        draw.ellipse(
            [cx - r * 1.8, cy - r * 1.8, cx + r * 1.8, cy + r * 1.8],
            outline=(250, 240, 170),
            width=stroke,
        )
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 230, 90))
    return image.filter(ImageFilter.SMOOTH)
