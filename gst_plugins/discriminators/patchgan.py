"""The PatchGAN discriminator of pix2pix/CycleGAN (Isola et al. 2017).

It scores overlapping patches rather than whole images: the output is a map
``(B, 1, h, w)`` of raw scores, each seeing a 70×70 receptive field with the
default three layers (30×30 scores for a 256² image). Layer for layer the
reference's ``NLayerDiscriminator``: with 3 input channels, width 64 and
instance norm it has 2,764,737 parameters. It takes any image size ≥ 32, so
it suits image-to-image objectives as well as the GAN one.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_core.interfaces import Discriminator
from gst_plugins._shared.blocks import (
    ArchitectureError,
    check_labels,
    check_positive,
    maybe_spectral_norm,
)
from gst_plugins._shared.init import init_weights
from gst_plugins._shared.norm import norm_layer

__all__ = ["PatchGANDiscriminator", "PixelDiscriminator"]


class PatchGANDiscriminator(Discriminator):
    """Images ``(B, channels, H, W)`` → patch scores ``(B, 1, h, w)``.

    ``channels`` counts every input channel: for pix2pix, pass the input and
    output images concatenated (e.g. 6). ``width`` is the reference's ndf,
    ``num_layers`` its n_layers. Spectral norm replaces the normalisation layers.
    """

    def __init__(
        self,
        channels: int = 3,
        width: int = 64,
        num_layers: int = 3,
        norm: str = "instance",
        spectral_norm: bool = False,
        image_size: int = 0,
        init: str = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for value, what in ((channels, "channels"), (width, "width"), (num_layers, "num_layers")):
            check_positive(value, what, name)
        self.num_classes = 0
        self.image_shape = (channels, image_size, image_size)
        make_norm, bias = norm_layer("none" if spectral_norm else norm, name)

        def sn(layer: nn.Module) -> nn.Module:
            return maybe_spectral_norm(layer, spectral_norm)

        layers: list[nn.Module] = [sn(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        hidden = width
        for i in range(1, num_layers + 1):
            out = width * min(2**i, 8)
            stride = 2 if i < num_layers else 1
            conv = sn(nn.Conv2d(hidden, out, 4, stride, 1, bias=bias))
            layers += [conv, make_norm(out), nn.LeakyReLU(0.2, True)]
            hidden = out
        layers.append(sn(nn.Conv2d(hidden, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)
        init_weights(self, init, init_gain)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, images.shape[0], type(self).__name__)
        return self.net(images)


class PixelDiscriminator(Discriminator):
    """The reference's 1×1 PixelGAN: scores each pixel alone, ``(B, 1, H, W)``.

    It only judges colour, not structure, which suits colourisation-like tasks.
    """

    def __init__(
        self,
        channels: int = 3,
        width: int = 64,
        norm: str = "instance",
        spectral_norm: bool = False,
        image_size: int = 0,
        init: str = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for value, what in ((channels, "channels"), (width, "width")):
            check_positive(value, what, name)
        if not isinstance(image_size, int) or image_size < 0:
            raise ArchitectureError(f"{name}: image_size must be an integer >= 0")
        self.num_classes = 0
        self.image_shape = (channels, image_size, image_size)
        make_norm, bias = norm_layer("none" if spectral_norm else norm, name)

        def sn(layer: nn.Module) -> nn.Module:
            return maybe_spectral_norm(layer, spectral_norm)

        self.net = nn.Sequential(
            sn(nn.Conv2d(channels, width, 1)),
            nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(width, width * 2, 1, bias=bias)),
            make_norm(width * 2),
            nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(width * 2, 1, 1, bias=bias)),
        )
        init_weights(self, init, init_gain)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, images.shape[0], type(self).__name__)
        return self.net(images)
