"""Which feature extractor a run uses when the user names none.

VGG19 when its weights can be found (``weights=``, ``$GST_VGG_WEIGHTS`` or
torchvision's download cache, see ``gst_plugins.feature_extractors.weights``);
otherwise the offline ``random_multiscale`` extractor, with a one-line notice
saying how to use real weights. Both are built through the registry.
"""

from __future__ import annotations

import os
import sys

from gst_core.errors import GstError
from gst_core.interfaces import FeatureExtractor
from gst_core.kinds import feature_extractors

__all__ = ["OFFLINE_NOTICE", "default_extractor"]

ENV_VAR = "GST_VGG_WEIGHTS"
OFFLINE_NOTICE = (
    "gst: no VGG weights configured, using the offline random-filter extractor; for "
    "photographic quality pass --weights vgg19.pth (a torchvision state dict) or set "
    f"{ENV_VAR}"
)


def default_extractor(
    weights: str | os.PathLike[str] | None = None, *, quiet: bool = False
) -> FeatureExtractor:
    """VGG19 if weights can be found, else ``random_multiscale`` (printing a notice).

    Weights the user named (argument or environment variable) that fail to load
    raise; only the absence of any configured weights falls back.
    """
    configured = weights is not None or os.environ.get(ENV_VAR, "").strip()
    try:
        return feature_extractors.build("vgg19", weights=weights)
    except GstError:
        if configured:
            raise
    if not quiet:
        print(OFFLINE_NOTICE, file=sys.stderr)
    return feature_extractors.build("random_multiscale")
