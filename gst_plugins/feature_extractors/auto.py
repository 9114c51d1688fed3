"""``auto``: the feature extractor a run uses when the user names none.

VGG19 when its weights can be found (``weights=``, ``$GST_VGG_WEIGHTS`` or
torchvision's download cache, see :mod:`.weights`); otherwise the offline
``random_multiscale`` extractor, with a one-line notice saying how to use
real weights. Only the absence of any weights file falls back: a file that
exists but fails to load (a corrupt torchvision cache) raises, as do weights
the user named (argument or environment variable) that are missing.
"""

from __future__ import annotations

import os
import sys

from gst_core.interfaces import FeatureExtractor

from .random_multiscale import RandomMultiscale
from .vgg import VGG19
from .weights import ENV_VAR, find_weights

__all__ = ["OFFLINE_NOTICE", "auto_extractor"]

OFFLINE_NOTICE = (
    "gst: no VGG weights configured, using the offline random-filter extractor; for "
    "photographic quality pass --weights vgg19.pth (a torchvision state dict) or set "
    f"{ENV_VAR}"
)


def auto_extractor(
    weights: str | os.PathLike[str] | None = None, quiet: bool = False
) -> FeatureExtractor:
    """VGG19 if weights can be found, else ``random_multiscale`` (printing a notice)."""
    if find_weights("vgg19", weights) is not None:
        return VGG19(weights=weights)
    if not quiet:
        print(OFFLINE_NOTICE, file=sys.stderr)
    return RandomMultiscale()
