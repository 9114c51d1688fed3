"""scikit-learn's handwritten digits (1797 images of 8×8, ten classes), when it is installed.

The data ships inside scikit-learn, so no download is needed. Images are
upscaled bilinearly to ``image_size``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gst_core.errors import DataError

from .in_memory import InMemoryImages

__all__ = ["SklearnDigits"]


class SklearnDigits(InMemoryImages):
    """Digits 0–9, white on black, ``channels`` 1 (default) or 3 (gray repeated)."""

    def __init__(self, image_size: int = 32, channels: int = 1) -> None:
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:
            raise DataError(
                "the digits dataset needs scikit-learn: pip install 'gst-toolkit[sklearn]' "
                "(or use the built-in 'shapes' dataset)"
            ) from exc
        if channels not in (1, 3):
            raise DataError(f"digits: channels must be 1 or 3, got {channels}")
        digits = load_digits()
        images = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
        images = F.interpolate(
            images, size=(image_size, image_size), mode="bilinear", align_corners=False
        )
        images = (images.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, channels, 1, 1)
        super().__init__(images, torch.as_tensor(digits.target), [str(d) for d in range(10)])
