"""``transformer_net``: Johnson et al.'s feed-forward style network (pytorch/examples' one).

The layout is exactly pytorch/examples ``fast_neural_style``: a 9×9 convolution
(32 channels), two stride-2 3×3 convolutions (64, 128), five residual blocks of
128 channels, two nearest-upsample + 3×3 convolutions (64, 32) and a 9×9
convolution to RGB; reflection padding everywhere, affine instance norm and
ReLU after every convolution but the last. 1,679,235 parameters at the
reference's sizes (``channels=32``, ``residual_blocks=5``).

Value range: gst's image generators take and return images in ``[-1, 1]``.
The reference takes 0..255 and returns 0..255 *unclamped*; here the last
convolution goes through ``tanh`` so the output honours the contract (the
original paper did the same with a scaled tanh). ``(y + 1) · 127.5`` is the
reference's pixel scale.

``scale_255 = True`` is pytorch/examples' own convention inside the network
(what ``gst import --from fast_neural_style`` builds for its saved models:
candy, mosaic, udnie, rain_princess): the layers see ``(x + 1) · 127.5`` and
return 0..255 without ``tanh``; the result is mapped back to ``[-1, 1]`` and
clamped there, as the reference's ``save_image`` clamps to 0..255. Its output
is then the reference's to float rounding.

Sizes: two stride-2 convolutions and two 2× upsamplings give back the input
size only for multiples of 4 (``size_multiple``); other sizes are
reflection-padded up to one and cropped back, so any ``H × W`` of at least
5 pixels comes out at ``H × W`` (the quarter-size bottleneck must be 2 wide to reflect).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.interfaces import ImageGenerator
from gst_plugins._shared.blocks import ArchitectureError

__all__ = ["TransformerNet"]


class _Conv(nn.Sequential):
    """Reflection padding + convolution (the reference's ``ConvLayer``)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        super().__init__(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride))


class _UpConv(nn.Sequential):
    """Nearest 2× upsampling, then a padded convolution (the reference's ``UpsampleConvLayer``):
    no transposed convolution, hence no checkerboard artefacts."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), _Conv(cin, cout, kernel))


def _norm_relu(block: nn.Module, channels: int) -> list[nn.Module]:
    return [block, nn.InstanceNorm2d(channels, affine=True), nn.ReLU()]


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_norm_relu(_Conv(channels, channels, 3), channels),
            _Conv(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class TransformerNet(ImageGenerator):
    """Image → stylised image, both ``(B, 3, H, W)`` in ``[-1, 1]``.

    Args:
        channels: width of the first layer (32 in the reference; the others are 2× and 4×).
        residual_blocks: residual blocks at the bottleneck (5 in the reference).
    """

    input_kind = "image"
    size_multiple = 4

    def __init__(
        self, channels: int = 32, residual_blocks: int = 5, scale_255: bool = False
    ) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ArchitectureError(f"transformer_net: channels must be >= 1, got {channels!r}")
        if not isinstance(residual_blocks, int) or residual_blocks < 0:
            raise ArchitectureError(
                f"transformer_net: residual_blocks must be >= 0, got {residual_blocks!r}"
            )
        if not isinstance(scale_255, bool):
            raise ArchitectureError(
                f"transformer_net: scale_255 must be true or false, got {scale_255!r}"
            )
        c = channels
        self.scale_255 = scale_255
        self.in_channels = self.out_channels = 3
        self.model = nn.Sequential(
            *_norm_relu(_Conv(3, c, 9), c),
            *_norm_relu(_Conv(c, 2 * c, 3, stride=2), 2 * c),
            *_norm_relu(_Conv(2 * c, 4 * c, 3, stride=2), 4 * c),
            *(_Residual(4 * c) for _ in range(residual_blocks)),
            *_norm_relu(_UpConv(4 * c, 2 * c, 3), 2 * c),
            *_norm_relu(_UpConv(2 * c, c, 3), c),
            _Conv(c, 3, 9),
            nn.Identity() if scale_255 else nn.Tanh(),
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if labels is not None:
            raise ArchitectureError("transformer_net is unconditional; it takes no labels")
        h, w = x.shape[-2:]
        # Always padded (often by 0) and cropped, with no branch on the size: an exported
        # graph (ONNX, dynamic height and width) then serves every size. Reflection
        # padding keeps the border statistics the instance norm sees.
        if self.scale_255:
            x = (x + 1) * 127.5
        padded = F.pad(x, (0, -w % self.size_multiple, 0, -h % self.size_multiple), mode="reflect")
        y = self.model(padded)[..., :h, :w]
        return (y / 127.5 - 1).clamp(-1, 1) if self.scale_255 else y
