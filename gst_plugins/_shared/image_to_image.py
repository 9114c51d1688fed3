"""What the image-to-image generators (ResNet, U-Net) share: their common options' checks,
the channels they declare, and a forward that refuses labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from torch import Tensor, nn

from gst_core.interfaces import ImageGenerator

from .blocks import ArchitectureError, check_labels, check_positive
from .norm import norm_layer

__all__ = ["ImageToImageGenerator"]


class ImageToImageGenerator(ImageGenerator):
    """An unconditional image generator whose layers are ``self.model``."""

    input_kind: ClassVar[Literal["latent", "image"]] = "image"
    model: nn.Module

    def common_options(
        self, in_channels: int, out_channels: int, width: int, norm: str, dropout: float
    ) -> tuple[Callable[[int], nn.Module], bool]:
        """Check the options every such generator takes, declare its channels, and return
        ``(make_norm, conv bias)`` for ``norm``."""
        owner = type(self).__name__
        for value, what in ((in_channels, "in_channels"), (out_channels, "out_channels")):
            check_positive(value, what, owner)
        check_positive(width, "width", owner)
        if not 0.0 <= float(dropout) < 1.0:
            raise ArchitectureError(f"{owner}: dropout must lie in [0, 1), got {dropout!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.image_shape = (out_channels, 0, 0)
        return norm_layer(norm, owner)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, x.shape[0], type(self).__name__)
        return self.model(x)
