"""The check every image-to-image objective makes of its generator, in one place."""

from __future__ import annotations

from torch import nn

from gst_core.errors import TrainingSetupError

__all__ = ["require_image_generator"]


def require_image_generator(generator: nn.Module, owner: str, use: str) -> None:
    """Refuse a generator that makes images from noise (``input_kind`` other than ``"image"``),
    naming the objective, the generator and what to use instead."""
    if generator.input_kind != "image":
        raise TrainingSetupError(
            f"{owner} needs an image-to-image generator; {type(generator).__name__} makes images "
            f"from noise (use {use})"
        )
