"""What the feed-forward style objectives (``fast_style``, ``gan_style``) share.

* :func:`default_extractor`: the ``[feature_extractor]`` spec used when the config
  names none: VGG16 if its weights can be found and the offline
  ``random_multiscale`` extractor otherwise (with a one-line notice, as the
  ``auto`` extractor does for Gatys).
* :func:`style_images`: the style images of a file or a folder (streamed), or the
  built-in drawn style when none is given; :func:`load_style_images` decodes them all.
* :func:`content_preview`: a few fixed content images for previews.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import Tensor

from gst_core.errors import TrainingSetupError
from gst_core.images import pil_to_tensor
from gst_plugins.datasets.style_images import StyleImages

__all__ = [
    "OFFLINE_NOTICE",
    "content_preview",
    "default_extractor",
    "load_style_images",
    "style_images",
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


def default_extractor() -> dict[str, Any]:
    """The extractor spec for a config without ``[feature_extractor]`` (recorded in
    checkpoints, so a resume uses the same one)."""
    from gst_plugins.feature_extractors.weights import find_weights

    if find_weights("vgg16", None) is not None:
        return {"name": "vgg16"}
    print(OFFLINE_NOTICE, file=sys.stderr)
    return {"name": "random_multiscale"}


def style_images(
    path: str | None, size: int | None, *, what: str = "style", cache: str | bool = "auto"
) -> StyleImages:
    """The style image at ``path``, or the folder ``path`` (listed now, each image read when a
    crop of it is drawn unless the folder fits the cache budget: see
    :mod:`gst_plugins.datasets.style_images`), longer side ``size``.

    ``None`` gives the built-in drawn style (swirling strokes), so a run works
    on a fresh machine.
    """
    if path is None:
        from gst_plugins.datasets.style_samples import sample_style

        side = size or 256
        return StyleImages(images=[pil_to_tensor(sample_style(side, side))], note="")
    return StyleImages.from_path(path, size, what=what, cache=cache)


def load_style_images(path: str | None, size: int | None, *, what: str = "style") -> list[Tensor]:
    """Every image of :func:`style_images` decoded, as ``(1, 3, H, W)`` in ``[0, 1]`` (memory
    O(folder): the objectives stream a folder instead)."""
    return list(style_images(path, size, what=what))


def content_preview(dataset: Any, count: int) -> Tensor:
    """The first ``count`` images of ``dataset`` in ``[-1, 1]``, spread evenly over it."""
    n = len(dataset)
    picks = sorted({round(i * (n - 1) / max(1, count - 1)) for i in range(min(count, n))})
    return torch.stack([dataset[i][0] for i in picks])


def check_rgb_content(dataset: Any, method: str) -> Tensor:
    """Refuse empty or non-RGB content data before training (adain, gan_style); returns the
    first content image."""
    from gst_plugins.objectives.gan import split_batch

    try:
        first = dataset[0]
    except IndexError:
        raise TrainingSetupError("the content data is empty") from None
    images, _ = split_batch(first)
    if images.dim() != 3 or images.shape[0] != 3:
        raise TrainingSetupError(
            f"{method} needs RGB content images; the data gives {tuple(images.shape)}"
        )
    return images
