"""The ResNet generator of CycleGAN (Johnson et al. 2016; Zhu et al. 2017).

Reflection pad + 7×7 conv, two stride-2 downsamplings, ``n_blocks`` residual
blocks, two 2× upsamplings, reflection pad + 7×7 conv + tanh; layer for layer
the reference's ``ResnetGenerator`` (``resnet_9blocks`` at width 64 with
instance norm: 11,378,179 parameters; ``width`` is the reference's ngf).
``upsampling = "nearest"`` swaps the transposed convolutions for
nearest-neighbour resizing + 3×3 conv, which avoids checkerboard
artefacts (Odena et al. 2016), an often-requested option.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_plugins._shared.blocks import ArchitectureError
from gst_plugins._shared.image_to_image import ImageToImageGenerator
from gst_plugins._shared.init import init_weights

__all__ = ["ResnetBlock", "ResnetGenerator", "resnet_6blocks", "resnet_9blocks"]

UPSAMPLINGS = ("transposed", "nearest")


class ResnetBlock(nn.Module):
    """``x + conv(relu(norm(conv(x))))`` with reflection padding (and dropout between)."""

    def __init__(self, dim: int, make_norm, bias: bool, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=bias),
            make_norm(dim),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(ImageToImageGenerator):
    """Images ``(B, in_channels, H, W)`` in [-1, 1] → ``(B, out_channels, H, W)`` in [-1, 1].

    H and W must be multiples of 4 (:attr:`size_multiple`); ``gst translate``
    pads any other size and crops back.
    """

    size_multiple = 4

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 64,
        n_blocks: int = 9,
        norm: str = "instance",
        dropout: float = 0.0,
        upsampling: str = "transposed",
        init: str = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        make_norm, bias = self.common_options(in_channels, out_channels, width, norm, dropout)
        if not isinstance(n_blocks, int) or n_blocks < 0:
            raise ArchitectureError(f"{owner}: n_blocks must be an integer >= 0, got {n_blocks!r}")
        if upsampling not in UPSAMPLINGS:
            raise ArchitectureError(
                f"{owner}: upsampling must be one of {', '.join(UPSAMPLINGS)}, got {upsampling!r}"
            )
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),
            make_norm(width),
            nn.ReLU(True),
        ]
        for i in range(2):
            c = width * 2**i
            layers += [nn.Conv2d(c, c * 2, 3, 2, 1, bias=bias), make_norm(c * 2), nn.ReLU(True)]
        layers += [ResnetBlock(width * 4, make_norm, bias, float(dropout)) for _ in range(n_blocks)]
        for i in range(2):
            c = width * 2 ** (2 - i)
            if upsampling == "transposed":
                up: list[nn.Module] = [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, 1, bias=bias)]
            else:
                up = [
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(c, c // 2, 3, bias=bias),
                ]
            layers += [*up, make_norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self, init, init_gain)


def resnet_9blocks(
    in_channels: int = 3,
    out_channels: int = 3,
    width: int = 64,
    norm: str = "instance",
    dropout: float = 0.0,
    upsampling: str = "transposed",
    init: str = "normal",
    init_gain: float = 0.02,
) -> ResnetGenerator:
    """The reference's ``resnet_9blocks`` (CycleGAN's default, for 256² images)."""
    return ResnetGenerator(
        in_channels, out_channels, width, 9, norm, dropout, upsampling, init, init_gain
    )


def resnet_6blocks(
    in_channels: int = 3,
    out_channels: int = 3,
    width: int = 64,
    norm: str = "instance",
    dropout: float = 0.0,
    upsampling: str = "transposed",
    init: str = "normal",
    init_gain: float = 0.02,
) -> ResnetGenerator:
    """The reference's ``resnet_6blocks`` (for 128² images)."""
    return ResnetGenerator(
        in_channels, out_channels, width, 6, norm, dropout, upsampling, init, init_gain
    )
