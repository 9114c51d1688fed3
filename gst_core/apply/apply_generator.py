"""Apply an image-to-image generator to an image of any size and aspect ratio.

Convolutional generators with ``k`` stride-2 downsamplings need sides that
are multiples of ``2**k`` (a U-Net's skip connections crash otherwise, and a
ResNet generator returns a slightly different size). Rather than resizing,
which distorts the aspect ratio and blurs, the image is reflect-padded up to
the next multiple of the generator's ``size_multiple`` and the result is
cropped back, so the output has exactly the input's size.

Shared by ``gst translate`` (pix2pix/CycleGAN) and ``gst stylize --model``
(feed-forward style networks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gst_core.errors import GstError
from gst_core.interfaces import ImageGenerator

__all__ = ["apply_image_generator", "pad_to_multiple"]


#: Sides below this (twice the 8 px the built-ins need) are edge-padded up to it: the
#: generators' own reflection pads need more pixels than that at their coarsest level
#: (transformer_net: 5 px at full size and 8 before its 4x downsampling; the ResNet: 4 and 8),
#: else a 1x1 or 40x3 image crashed inside the network. A generator may set ``min_size``.
MIN_SIDE = 16


def pad_to_multiple(
    image: Tensor, multiple: int, min_size: int = 1
) -> tuple[Tensor, tuple[int, int]]:
    """``image`` ``(B, C, H, W)`` padded at the bottom/right to multiples of ``multiple``,
    and to at least ``min_size`` on each side.

    Returns the padded tensor and the original ``(H, W)`` to crop back to.
    Reflection padding keeps the border statistics natural (zeros would read as
    a black frame); it needs the pad to be smaller than the side, so very small
    images fall back to edge replication.
    """
    h, w = image.shape[-2:]
    multiple = max(1, multiple)
    pad_h = max((-h) % multiple, min_size - h)
    pad_w = max((-w) % multiple, min_size - w)
    pad_h += (-(h + pad_h)) % multiple
    pad_w += (-(w + pad_w)) % multiple
    if not pad_h and not pad_w:
        return image, (h, w)
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode), (h, w)


@torch.inference_mode()  # no autograd bookkeeping at all: the apply path never trains
def apply_image_generator(generator: ImageGenerator, image: Tensor) -> Tensor:
    """Run ``generator`` on ``image`` in ``[0, 1]`` (``(C, H, W)`` or ``(B, C, H, W)``).

    The generator works in ``[-1, 1]`` (tanh outputs, the gst convention for
    image generators); the result is in ``[0, 1]``, on ``image``'s device, with
    the input's own height and width and batch shape.
    """
    if image.dim() not in (3, 4):
        raise GstError(
            f"apply_image_generator takes an image (C, H, W) or a batch (B, C, H, W), got "
            f"shape {tuple(image.shape)}"
        )
    batched = image.dim() == 4
    x = image if batched else image.unsqueeze(0)
    # Any nn.Module meeting the contract may be handed over, declared members or not.
    in_channels = getattr(generator, "in_channels", None)
    if in_channels is not None and x.shape[1] != in_channels:
        if in_channels == 1 and x.shape[1] == 3:
            x = (x * x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif in_channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        else:
            raise GstError(
                f"the generator takes {in_channels}-channel images, got {x.shape[1]} channels"
            )
    try:
        device = next(generator.parameters()).device
    except StopIteration:
        device = x.device
    multiple = int(getattr(generator, "size_multiple", 1) or 1)
    min_size = int(getattr(generator, "min_size", 0) or MIN_SIDE)
    padded, (h, w) = pad_to_multiple(x.to(device).float() * 2 - 1, multiple, min_size)
    out = generator(padded)[..., :h, :w]
    out = ((out.float() + 1) / 2).clamp(0, 1).to(image.device)
    return out if batched else out[0]
