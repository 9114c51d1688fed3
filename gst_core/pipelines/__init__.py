"""Pipelines: they take built components and run them (style transfer, ...)."""

from .color import match_color_histogram, transfer_luminance
from .extractor_choice import default_extractor
from .memory import ImageTooLargeError
from .style_transfer import (
    NonFiniteLossError,
    StyleTransfer,
    StyleTransferError,
    StylizeOptions,
    stylize,
)

__all__ = [
    "ImageTooLargeError",
    "NonFiniteLossError",
    "StyleTransfer",
    "StyleTransferError",
    "StylizeOptions",
    "default_extractor",
    "match_color_histogram",
    "stylize",
    "transfer_luminance",
]
