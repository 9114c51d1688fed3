"""Pipelines: they take built components and run them (style transfer, ...)."""

from gst_core.errors import NonFiniteLossError

from .color import match_color_histogram, transfer_luminance
from .memory import ImageTooLargeError
from .style_transfer import StyleTransfer, stylize
from .stylize_options import StyleTransferError, StylizeOptions

__all__ = [
    "ImageTooLargeError",
    "NonFiniteLossError",
    "StyleTransfer",
    "StyleTransferError",
    "StylizeOptions",
    "match_color_histogram",
    "stylize",
    "transfer_luminance",
]
