"""What the feed-forward style objectives (``fast_style``, ``gan_style``) share.

* :func:`default_extractor`: the ``[feature_extractor]`` spec used when the config
  names none: VGG16 if its weights can be found and the offline
  ``random_multiscale`` extractor otherwise (with a one-line notice, as the
  ``auto`` extractor does for Gatys).
* :func:`load_style_images`: style images from a file or a folder, as ``(1, 3, H, W)``
  tensors in ``[0, 1]``; the built-in drawn style when none is given.
* :func:`content_preview`: a few fixed content images for previews.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gst_core.errors import DataError, TrainingSetupError
from gst_core.images import ImageReadError, find_images, load_image, pil_to_tensor

__all__ = [
    "OFFLINE_NOTICE",
    "content_preview",
    "default_extractor",
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


def default_extractor() -> dict[str, Any]:
    """The extractor spec for a config without ``[feature_extractor]`` (recorded in
    checkpoints, so a resume uses the same one)."""
    from gst_plugins.feature_extractors.weights import find_weights

    if find_weights("vgg16", None) is not None:
        return {"name": "vgg16"}
    print(OFFLINE_NOTICE, file=sys.stderr)
    return {"name": "random_multiscale"}


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
        images, bad = [], []
        for f in files:
            try:
                images.append(load_image(f, size))
            except ImageReadError as exc:  # damaged, not an image, a decompression bomb
                bad.append((f, exc))
        if bad:
            shown = "; ".join(f"{f.name} ({e})" for f, e in bad[:3])
            warnings.warn(
                f"skipped {len(bad)} unreadable image(s) of {len(files)} in the {what} folder "
                f"{str(root)!r}: {shown}{'; ...' if len(bad) > 3 else ''}",
                stacklevel=2,
            )
        if not images:
            raise DataError(
                f"none of the {len(files)} image(s) in the {what} folder {str(root)!r} could be "
                f"read (first: {bad[0][1]})"
            )
        return images
    if not root.exists():
        raise DataError(f"the {what} image {str(root)!r} does not exist; check the path")
    return [load_image(root, size)]


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
