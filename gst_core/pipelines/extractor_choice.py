"""Which feature extractor a run uses when the user names none.

VGG19 when its weights can be found (``weights=``, ``$GST_VGG_WEIGHTS`` or
torchvision's download cache, see ``gst_plugins.feature_extractors.weights``);
otherwise the offline ``random_multiscale`` extractor, with a one-line notice
saying how to use real weights. Both are built through the registry.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

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

    Only the absence of any weights file falls back. A file that exists but fails
    to load (a corrupt torchvision cache, a broken vgg19 plugin) raises, as do
    weights the user named (argument or environment variable) that are missing.
    """
    configured = weights is not None or os.environ.get(ENV_VAR, "").strip()
    if configured or _torchvision_cache_file().is_file():
        return feature_extractors.build("vgg19", weights=weights)
    if not quiet:
        print(OFFLINE_NOTICE, file=sys.stderr)
    return feature_extractors.build("random_multiscale")


def _torchvision_cache_file() -> Path:
    # Where torchvision.models.vgg19(weights=...) caches its checkpoint, which the vgg19
    # extractor reads (gst_plugins.feature_extractors.weights, not imported: gst_core
    # does not depend on the plugins).
    return Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"
