"""The DCGAN discriminator (Radford et al. 2016), with a spectral-norm option.

Stride-2 convolutions with LeakyReLU(0.2) halve the resolution down to 4×4,
doubling the channels each time, and a 4×4 convolution gives one raw score
per image. BatchNorm follows every hidden convolution but the first, as in
the paper, unless spectral normalisation is on: SNGAN drops it, and a
gradient penalty (WGAN-GP, R1) is only meaningful without it, because
BatchNorm mixes the samples of a batch.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_core.interfaces import Discriminator
from gst_plugins._shared.blocks import (
    check_image_size,
    check_labels,
    check_positive,
    dcgan_init,
    maybe_spectral_norm,
)
from gst_plugins._shared.minibatch_std import MinibatchStdDev

__all__ = ["DCGANDiscriminator", "downsampling_stack"]


def downsampling_stack(
    channels: int, width: int, steps: int, *, spectral_norm: bool, batch_norm: bool
) -> tuple[nn.Sequential, int]:
    """Convolutions from ``(channels, S, S)`` down to ``(width·2^(steps-1), 4, 4)``; returns the
    stack and its output channel count."""
    layers: list[nn.Module] = [
        maybe_spectral_norm(nn.Conv2d(channels, width, 4, 2, 1), spectral_norm),
        nn.LeakyReLU(0.2, inplace=True),
    ]
    hidden = width
    for _ in range(steps - 1):
        layers.append(
            maybe_spectral_norm(
                nn.Conv2d(hidden, hidden * 2, 4, 2, 1, bias=not batch_norm), spectral_norm
            )
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(hidden * 2))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        hidden *= 2
    return nn.Sequential(*layers), hidden


class DCGANDiscriminator(Discriminator):
    """Images ``(B, channels, image_size, image_size)`` in ``[-1, 1]`` → raw scores ``(B,)``.

    ``batch_norm`` defaults to ``not spectral_norm``. ``minibatch_std`` appends the
    minibatch standard-deviation map before the last convolution (ProGAN/StyleGAN), a
    counter to mode collapse.
    """

    def __init__(
        self,
        image_size: int = 64,
        channels: int = 3,
        width: int = 64,
        spectral_norm: bool = False,
        batch_norm: bool | None = None,
        minibatch_std: bool = False,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        steps = check_image_size(image_size, name)
        check_positive(channels, "channels", name)
        check_positive(width, "width", name)
        self.num_classes = 0
        self.image_shape = (channels, image_size, image_size)
        batch_norm = (not spectral_norm) if batch_norm is None else batch_norm
        self.features, hidden = downsampling_stack(
            channels, width, steps, spectral_norm=spectral_norm, batch_norm=batch_norm
        )
        # minibatch_std: one more 4x4 map, the features' spread across the batch (ProGAN).
        self.minibatch_std = MinibatchStdDev() if minibatch_std else nn.Identity()
        self.head = maybe_spectral_norm(
            nn.Conv2d(hidden + int(minibatch_std), 1, 4, 1, 0), spectral_norm
        )
        dcgan_init(self)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, images.shape[0], type(self).__name__)
        return self.head(self.minibatch_std(self.features(images))).flatten()
