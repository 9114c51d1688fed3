"""What the feed-forward style objectives (``fast_style``, ``gan_style``) share.

* :func:`build_extractor`: the frozen feature extractor from ``[feature_extractor]``,
  or, when the config names none, VGG16 if its weights can be found and the
  offline ``random_multiscale`` extractor otherwise (with a one-line notice, as
  the ``auto`` extractor does for Gatys).
* :func:`load_style_images`: style images from a file or a folder, as ``(1, 3, H, W)``
  tensors in ``[0, 1]``; the built-in drawn style when none is given.
* :func:`content_preview`: a few fixed content images for previews.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gst_core.config import single
from gst_core.errors import DataError
from gst_core.images import find_images, load_image, pil_to_tensor
from gst_core.interfaces import FeatureExtractor

__all__ = [
    "OFFLINE_NOTICE",
    "build_extractor",
    "build_image_generator",
    "content_preview",
    "load_style_images",
    "to_unit",
]

OFFLINE_NOTICE = (
    "gst: no VGG16 weights configured, using the offline random_multiscale extractor; for "
    'the reference\'s perceptual loss add [feature_extractor] name = "vgg16" with '
    'weights = "vgg16.pth" (a torchvision state dict) or set GST_VGG16_WEIGHTS'
)


def to_unit(images: Tensor) -> Tensor:
    """``[-1, 1]`` (generators, datasets) → ``[0, 1]`` (feature extractors)."""
    return (images.float() + 1) / 2


def build_extractor(
    built: Mapping[str, Any], *, source: str, quiet: bool = False
) -> tuple[FeatureExtractor, dict[str, Any]]:
    """The extractor and its spec (recorded in checkpoints, so a resume uses the same one)."""
    from gst_core.kinds import feature_extractors
    from gst_plugins.feature_extractors.weights import find_weights

    if "feature_extractor" in built:
        extractor = single(built, "feature_extractor", source=source)
        return extractor, {}
    if find_weights("vgg16", None) is not None:
        return feature_extractors.build("vgg16"), {"name": "vgg16"}
    if not quiet:
        print(OFFLINE_NOTICE, file=sys.stderr)
    return feature_extractors.build("random_multiscale"), {"name": "random_multiscale"}


def build_image_generator(built: Mapping[str, Any], config: Mapping[str, Any], *, source: str):
    """``[generator]`` (default ``transformer_net``) and its spec; the objective's constructor
    checks that it takes images."""
    from gst_core.config import spec_of
    from gst_core.kinds import generators

    if "generator" in built:
        generator = single(built, "generator", source=source)
        spec = spec_of(config, "generator")
    else:
        generator, spec = generators.build("transformer_net"), {"name": "transformer_net"}
    return generator, spec


def load_style_images(path: str | None, size: int | None, *, what: str = "style") -> list[Tensor]:
    """The image at ``path``, or every image in the folder ``path``, longer side ``size``.

    ``None`` gives the built-in drawn style (swirling strokes), so a run works
    on a fresh machine.
    """
    if path is None:
        from gst_plugins.datasets.style_samples import sample_style

        side = size or 256
        return [pil_to_tensor(sample_style(side, side))]
    root = Path(path).expanduser()
    if root.is_dir():
        files = find_images(root)
        if not files:
            raise DataError(
                f"the {what} folder {str(root)!r} has no images; put PNG/JPEG files in it"
            )
        return [load_image(f, size) for f in files]
    if not root.exists():
        raise DataError(f"the {what} image {str(root)!r} does not exist; check the path")
    return [load_image(root, size)]


def content_preview(dataset: Any, count: int) -> Tensor:
    """The first ``count`` images of ``dataset`` in ``[-1, 1]``, spread evenly over it."""
    n = len(dataset)
    picks = sorted({round(i * (n - 1) / max(1, count - 1)) for i in range(min(count, n))})
    return torch.stack([dataset[i][0] for i in picks])
