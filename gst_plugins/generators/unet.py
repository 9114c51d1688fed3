"""The U-Net generator of pix2pix (Isola et al. 2017).

``num_downs`` stride-2 4×4 convolutions take the image down to 1×1 (8 for
256², 7 for 128²), and transposed convolutions bring it back, each level's
decoder seeing the encoder's features of the same size through a skip
connection. Layer for layer the reference's ``UnetGenerator`` built from
``UnetSkipConnectionBlock``s (``unet_256`` at width 64 with batch norm:
54,413,955 parameters; ``width`` is the reference's ngf); ``dropout`` (0.5
in pix2pix) sits in the innermost decoder levels, where the reference
puts it, and is pix2pix's noise source.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gst_plugins._shared.blocks import ArchitectureError
from gst_plugins._shared.image_to_image import ImageToImageGenerator
from gst_plugins._shared.init import init_weights

__all__ = ["UnetGenerator", "UnetSkipBlock", "unet_128", "unet_256"]


class UnetSkipBlock(nn.Module):
    """One U-Net level: down, the inner levels (``submodule``), up; input and output
    concatenated on channels except at the outermost level."""

    def __init__(
        self,
        outer: int,
        inner: int,
        *,
        make_norm,
        bias: bool,
        in_channels: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        down_conv = nn.Conv2d(in_channels or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            down = [down_conv]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            down = [nn.LeakyReLU(0.2, True), down_conv]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias)]
            up.append(make_norm(outer))
        else:
            down = [nn.LeakyReLU(0.2, True), down_conv, make_norm(inner)]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias)]
            up.append(make_norm(outer))
            if dropout:
                up.append(nn.Dropout(dropout))
        middle = [submodule] if submodule is not None else []
        self.model = nn.Sequential(*down, *middle, *up)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(ImageToImageGenerator):
    """Images ``(B, in_channels, H, W)`` → ``(B, out_channels, H, W)``, both in [-1, 1].

    H and W must be multiples of ``2**num_downs`` (:attr:`size_multiple`);
    ``gst translate`` pads any other size and crops back.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        num_downs: int = 8,
        width: int = 64,
        norm: str = "batch",
        dropout: float = 0.5,
        init: str = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        make_norm, bias = self.common_options(in_channels, out_channels, width, norm, dropout)
        if not isinstance(num_downs, int) or num_downs < 5:
            raise ArchitectureError(
                f"{owner}: num_downs must be an integer >= 5 (7 for 128² images, 8 for 256²), "
                f"got {num_downs!r}"
            )
        self.size_multiple = 2**num_downs
        kw = {"make_norm": make_norm, "bias": bias}
        block = UnetSkipBlock(width * 8, width * 8, innermost=True, **kw)
        for _ in range(num_downs - 5):
            block = UnetSkipBlock(
                width * 8, width * 8, submodule=block, dropout=float(dropout), **kw
            )
        for mult in (4, 2, 1):
            block = UnetSkipBlock(width * mult, width * mult * 2, submodule=block, **kw)
        self.model = UnetSkipBlock(
            out_channels, width, in_channels=in_channels, submodule=block, outermost=True, **kw
        )
        init_weights(self, init, init_gain)


def unet_256(
    in_channels: int = 3,
    out_channels: int = 3,
    width: int = 64,
    norm: str = "batch",
    dropout: float = 0.5,
    init: str = "normal",
    init_gain: float = 0.02,
) -> UnetGenerator:
    """The reference's ``unet_256`` (pix2pix's default): 8 downsamplings."""
    return UnetGenerator(in_channels, out_channels, 8, width, norm, dropout, init, init_gain)


def unet_128(
    in_channels: int = 3,
    out_channels: int = 3,
    width: int = 64,
    norm: str = "batch",
    dropout: float = 0.5,
    init: str = "normal",
    init_gain: float = 0.02,
) -> UnetGenerator:
    """The reference's ``unet_128``: 7 downsamplings."""
    return UnetGenerator(in_channels, out_channels, 7, width, norm, dropout, init, init_gain)
