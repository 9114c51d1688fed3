"""A procedurally generated, class-labelled image dataset that needs no download.

Each class is one shape in one colour ("red circle", "green square", ...),
drawn at a random position, size and rotation-free pose on a dark, slightly
tinted background with a little colour jitter. Classes differ in both shape
and colour, so a small CNN separates them almost perfectly, yet a GAN still
has to learn position, size and outline. Generation is deterministic in
``seed`` and takes about a second for 5000 images.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from gst_core.errors import DataError

from .in_memory import InMemoryImages

__all__ = ["CLASSES", "ProceduralShapes"]

# (name, RGB) — hues far apart, so colour alone nearly separates the classes.
_COLOURS = [
    ("red", (230, 40, 40)),
    ("green", (40, 200, 60)),
    ("blue", (50, 90, 250)),
    ("yellow", (240, 220, 40)),
    ("magenta", (220, 50, 220)),
    ("cyan", (40, 220, 220)),
    ("orange", (250, 140, 20)),
    ("white", (240, 240, 240)),
    ("pink", (255, 150, 190)),
    ("lime", (170, 250, 90)),
]
_SHAPES = [
    "circle",
    "square",
    "triangle",
    "plus",
    "ring",
    "diamond",
    "frame",
    "down_triangle",
    "cross",
    "bar",
]
CLASSES = [f"{c}_{s}" for (c, _), s in zip(_COLOURS, _SHAPES, strict=True)]


def _draw(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill) -> None:
    box = (cx - r, cy - r, cx + r, cy + r)
    w = max(2.0, r * 0.45)  # stroke width of line shapes
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)
    elif shape == "down_triangle":
        draw.polygon([(cx - r, cy - r), (cx + r, cy - r), (cx, cy + r)], fill=fill)
    elif shape == "plus":
        draw.rectangle((cx - w / 2, cy - r, cx + w / 2, cy + r), fill=fill)
        draw.rectangle((cx - r, cy - w / 2, cx + r, cy + w / 2), fill=fill)
    elif shape == "cross":
        draw.line((cx - r, cy - r, cx + r, cy + r), fill=fill, width=round(w))
        draw.line((cx - r, cy + r, cx + r, cy - r), fill=fill, width=round(w))
    elif shape == "ring":
        draw.ellipse(box, outline=fill, width=round(w * 0.8))
    elif shape == "frame":
        draw.rectangle(box, outline=fill, width=round(w * 0.8))
    elif shape == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fill)
    elif shape == "bar":
        draw.rectangle((cx - r, cy - w / 2, cx + r, cy + w / 2), fill=fill)
    else:  # pragma: no cover
        raise ValueError(shape)


def render_shapes(
    num_classes: int, per_class: int, image_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 (N, 3, S, S), labels (N,))``, classes interleaved."""
    rng = np.random.default_rng(seed)
    scale = 4  # draw large, then downsample: anti-aliased edges
    big = image_size * scale
    n = num_classes * per_class
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    labels = np.arange(n) % num_classes
    for i, label in enumerate(labels):
        background = tuple(int(v) for v in rng.integers(0, 60, size=3))
        image = Image.new("RGB", (big, big), background)
        colour = np.array(_COLOURS[label][1]) + rng.integers(-20, 21, size=3)
        fill = tuple(int(v) for v in np.clip(colour, 0, 255))
        r = rng.uniform(0.22, 0.36) * big
        cx, cy = rng.uniform(r + 0.04 * big, big - r - 0.04 * big, size=2)
        _draw(ImageDraw.Draw(image), _SHAPES[label], cx, cy, r, fill)
        images[i] = np.asarray(image.resize((image_size, image_size), Image.Resampling.BOX))
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)


class ProceduralShapes(InMemoryImages):
    """``num_classes`` (≤ 10) classes of coloured shapes, ``per_class`` images each.

    ``channels=1`` gives grayscale images (shape is then the only cue).
    ``classes`` holds names like ``"red_circle"``.
    """

    def __init__(
        self,
        image_size: int = 32,
        num_classes: int = 10,
        per_class: int = 500,
        channels: int = 3,
        seed: int = 0,
    ) -> None:
        if not 1 <= num_classes <= len(CLASSES):
            raise DataError(f"shapes: num_classes must lie in 1..{len(CLASSES)}, got {num_classes}")
        if channels not in (1, 3):
            raise DataError(f"shapes: channels must be 1 or 3, got {channels}")
        if image_size < 8:
            raise DataError(f"shapes: image_size must be >= 8, got {image_size}")
        images, labels = render_shapes(num_classes, per_class, image_size, seed)
        if channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            images = (images.float() * weights).sum(1, keepdim=True).round().to(torch.uint8)
        super().__init__(images, labels, CLASSES[:num_classes])
