"""``fid_auto``: the feature extractor FID/KID use when the user names none.

The FID InceptionV3 (``inception``) when pytorch-fid's weights file can be
found (``weights=``, ``$GST_INCEPTION_WEIGHTS`` or torch's hub cache), so the
numbers are comparable with published ones; otherwise the offline
``random_pool``, which ``gst eval`` and the training callback announce as not
comparable. Weights the user named are never silently replaced.
"""

from __future__ import annotations

import os

from gst_core.interfaces import FeatureExtractor

from .inception import InceptionV3FID, find_inception_weights
from .random_pool import RandomPool

__all__ = ["fid_auto_extractor"]


def fid_auto_extractor(weights: str | os.PathLike[str] | None = None) -> FeatureExtractor:
    """``inception`` with its weights when they can be found, else ``random_pool``."""
    found = find_inception_weights(weights)
    return InceptionV3FID(weights=found) if found is not None else RandomPool()
