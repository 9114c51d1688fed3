"""An offline feature extractor: shallow random convolutions over an image pyramid.

No pretrained weights exist on a machine without a network connection, yet
style transfer needs a feature space whose Gram matrices describe texture.
Ustyuzhaninov, Brendel, Gatys & Bethge ("Texture synthesis using shallow
convolutional networks with random filters", 2016) showed that a *single*
layer of random filters at *several scales* already synthesises convincing
textures; He, Wang & Hopcroft (2016) showed the same for random deep nets,
with more cost and more care in the initialisation.

Their multi-scale filters go up to 55×55 pixels, which is slow on a CPU. Here
the same receptive fields come from an image pyramid instead: at each level
``s`` (the image average-pooled by ``2**s``) a bank of random ``k×k`` filters
followed by a ReLU, so level 4 of 5×5 filters sees 80×80 input pixels, for
1/256 of the cost of a full-resolution 80×80 filter. Taps ``scale1`` (finest)
… ``scale5`` (coarsest); content is matched at ``scale3`` (1/4 resolution),
which keeps the layout and lets the finer levels take on the style's texture.

The weights come from a fixed seed, so the "network" is the same on every
machine and every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.interfaces import FeatureExtractor

from .vgg import IMAGENET_MEAN, IMAGENET_STD, check_layers

__all__ = ["RandomMultiscale"]

_MAX_SCALES = 8


class RandomMultiscale(FeatureExtractor):
    """Random ``kernel_size`` filters + ReLU at each of ``num_scales`` pyramid levels.

    Args:
        layers: taps to return, ``scale1`` … ``scale{num_scales}``.
        channels: filters per level (more filters give richer Gram statistics;
            Ustyuzhaninov et al. saturate around 128–1024).
        kernel_size: filter size at every level (odd).
        num_scales: pyramid levels (each halves the resolution).
        seed: seed of the random filters.
        channels_last: NHWC memory layout (0.84× the time of NCHW for a forward+backward
            at 256×192 on the 2-core CPU, interleaved runs).
    """

    available_layers: ClassVar[tuple[str, ...]] = tuple(
        f"scale{i}" for i in range(1, _MAX_SCALES + 1)
    )
    default_content_layers: ClassVar[tuple[str, ...]] = ("scale3",)
    default_style_layers: ClassVar[tuple[str, ...]] = (
        "scale1",
        "scale2",
        "scale3",
        "scale4",
        "scale5",
    )

    # The tutorial's content 1 / style 1e6 suit these features too (Grams of the same
    # order as VGG's); random filters leave pixel noise unconstrained, which a little
    # total variation removes (judged on the demo images at tv 0, 10 and 300).
    default_loss_weights: ClassVar[dict[str, float]] = {"tv_weight": 10.0}

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        channels: int = 128,
        kernel_size: int = 5,
        num_scales: int = 5,
        seed: int = 0,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if not 1 <= num_scales <= _MAX_SCALES:
            raise ValueError(f"num_scales must be 1..{_MAX_SCALES}, got {num_scales}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        available = self.available_layers[:num_scales]
        # Content at 1/4 resolution (or the coarsest level there is); style at every level.
        self.default_content_layers = (available[min(2, num_scales - 1)],)
        self.default_style_layers = available
        self.layers = check_layers(
            layers or self.default_content_layers + self.default_style_layers,
            available,
            "RandomMultiscale",
        )
        generator = torch.Generator().manual_seed(seed)
        self.banks = nn.ModuleList()
        for _ in range(num_scales):
            conv = nn.Conv2d(3, channels, kernel_size, padding=kernel_size // 2, bias=True)
            fan_in = 3 * kernel_size * kernel_size
            with torch.no_grad():
                # Unit-variance responses to unit-variance input; small random biases
                # so the ReLUs cut at different levels (a richer nonlinearity).
                conv.weight.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=generator)
                conv.bias.normal_(0.0, 0.5, generator=generator)
            self.banks.append(conv)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.banks.to(memory_format=self.memory_format)
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        return dict(self.iter_taps(images))

    def iter_taps(self, images: Tensor) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(name, features)`` for each tap in :attr:`layers`, finest first."""
        x = ((images - self.mean) / self.std).contiguous(memory_format=self.memory_format)
        wanted = set(self.layers)
        deepest = max(int(name.removeprefix("scale")) for name in self.layers)
        for level in range(1, deepest + 1):
            if level > 1:
                # Pooling can't shrink below one pixel; tiny images just stop shrinking.
                # ceil_mode: with floor an odd-sized level dropped its last row/column,
                # which then reached no coarser level (nor the content tap): under
                # Gatys those pixels were held by the finest level alone and saturated
                # into a band along the bottom/right edge. ceil_mode averages them
                # alone instead, weighting them more; measured on chelsea 256 px that
                # band went from 77% to 32% saturated pixels (33% on the top rows),
                # against 59% when zero-padding to an even size (equal weights).
                if min(x.shape[-2:]) >= 2:
                    x = F.avg_pool2d(x, 2, ceil_mode=True)
            name = f"scale{level}"
            if name in wanted:
                yield name, F.relu(self.banks[level - 1](x), inplace=True)

    def activation_bytes_per_pixel(self) -> float:
        """Float32 bytes of activations kept for backward, per input pixel (for memory guards)."""
        levels = [int(name.removeprefix("scale")) for name in self.layers]
        channels = self.banks[0].out_channels
        return sum(channels * 4.0 ** -(lv - 1) for lv in levels) * 3 * 4
