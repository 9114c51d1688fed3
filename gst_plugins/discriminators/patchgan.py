"""The PatchGAN discriminator of pix2pix/CycleGAN (Isola et al. 2017).

It scores overlapping patches rather than whole images: the output is a map
``(B, 1, h, w)`` of raw scores, each seeing a 70×70 receptive field with the
default three layers. It takes any image size ≥ 32, so it also suits
image-to-image objectives.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_core.interfaces import Discriminator
from gst_plugins.generators._blocks import (
    check_labels,
    check_positive,
    dcgan_init,
    maybe_spectral_norm,
)

__all__ = ["PatchGANDiscriminator"]


class PatchGANDiscriminator(Discriminator):
    """Images ``(B, channels, H, W)`` → patch scores ``(B, 1, h, w)``.

    ``channels`` counts every input channel: for pix2pix, pass the input and
    output images concatenated (e.g. 6).
    """

    def __init__(
        self,
        channels: int = 3,
        width: int = 64,
        num_layers: int = 3,
        spectral_norm: bool = False,
        image_size: int = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for value, what in ((channels, "channels"), (width, "width"), (num_layers, "num_layers")):
            check_positive(value, what, name)
        self.num_classes = 0
        self.image_shape = (channels, image_size, image_size)

        def sn(layer: nn.Module) -> nn.Module:
            return maybe_spectral_norm(layer, spectral_norm)

        norm = (lambda c: nn.Identity()) if spectral_norm else nn.InstanceNorm2d
        layers: list[nn.Module] = [sn(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        hidden = width
        for i in range(1, num_layers + 1):
            out = width * min(2**i, 8)
            stride = 2 if i < num_layers else 1
            layers += [sn(nn.Conv2d(hidden, out, 4, stride, 1)), norm(out), nn.LeakyReLU(0.2, True)]
            hidden = out
        layers.append(sn(nn.Conv2d(hidden, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, images.shape[0], type(self).__name__)
        return self.net(images)
