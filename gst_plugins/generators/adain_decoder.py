"""``adain_decoder``: the decoder of AdaIN style transfer (Huang & Belongie 2017).

It mirrors VGG19 from ``relu4_1`` back to the image, as pytorch-AdaIN's
``net.py`` builds it: 3×3 convolutions with reflection padding and ReLU,
nearest-neighbour 2× upsampling where the encoder pools, no normalisation
layers (the paper found that instance or batch norm in the decoder hurts) and
no output activation. Its input is AdaIN's target features ``(B, C, h, w)``;
its output an image ``(B, 3, 8h, 8w)`` roughly in ``[0, 1]`` (the range of the
encoder's input; callers clamp), *not* the ``[-1, 1]`` of gst's image-to-image
generators, which is why :attr:`input_kind` is ``"features"``.

The modules sit at the same indices of :attr:`layers` as in the reference's
``nn.Sequential``, so its ``decoder.pth`` loads with :func:`load_reference_decoder`.
``width_multiplier`` scales every width (1.0: the reference's 512-256-128-64),
for the small offline encoders and fast tests.
"""

from __future__ import annotations

import os
from typing import ClassVar

from torch import Tensor, nn

from gst_core.errors import GstError
from gst_core.interfaces import ImageGenerator
from gst_plugins._shared.blocks import check_labels

__all__ = ["AdaINDecoder", "load_reference_decoder"]

# (convolutions at this width, the width); an upsampling follows each block but the last.
_BLOCKS = ((1, 512), (4, 256), (2, 128), (2, 64))


class AdaINDecoder(ImageGenerator):
    """Features at the encoder's ``relu4_1`` → an RGB image 8× larger."""

    input_kind = "features"
    #: The encoder pools three times, so the decoder multiplies the size by 8.
    upscale: ClassVar[int] = 8

    def __init__(self, width_multiplier: float = 1.0, in_channels: int | None = None) -> None:
        super().__init__()
        if not isinstance(width_multiplier, int | float) or width_multiplier <= 0:
            raise GstError(f"adain_decoder: width_multiplier must be > 0, got {width_multiplier!r}")
        widths = [max(1, round(w * width_multiplier)) for _, w in _BLOCKS]
        self.in_channels = int(in_channels) if in_channels is not None else widths[0]
        self.width_multiplier = float(width_multiplier)
        modules: list[nn.Module] = []
        channels = self.in_channels
        for block, ((convs, _), width) in enumerate(zip(_BLOCKS, widths, strict=True)):
            nxt = widths[block + 1] if block + 1 < len(widths) else 3
            for i in range(convs):
                # The reference's last conv of each block narrows to the next block's width.
                out = nxt if i == convs - 1 else width
                modules += [nn.ReflectionPad2d(1), nn.Conv2d(channels, out, 3)]
                channels = out
                if not (block == len(_BLOCKS) - 1 and i == convs - 1):
                    modules.append(nn.ReLU())
            if block + 1 < len(_BLOCKS):
                modules.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.layers = nn.Sequential(*modules)

    def forward(self, features: Tensor, labels: Tensor | None = None) -> Tensor:
        check_labels(labels, 0, features.shape[0], "adain_decoder")
        if features.dim() != 4 or features.shape[1] != self.in_channels:
            raise GstError(
                f"adain_decoder takes features (B, {self.in_channels}, h, w), got "
                f"{tuple(features.shape)}; its in_channels must match the encoder's last tap"
            )
        return self.layers(features)


def load_reference_decoder(path: str | os.PathLike[str]) -> AdaINDecoder:
    """pytorch-AdaIN's ``decoder.pth`` (keys ``1.weight``, ``1.bias``, ... of its Sequential)."""
    from gst_plugins.feature_extractors.weights import WeightsError, read_state_dict

    state = read_state_dict(path)
    decoder = AdaINDecoder()
    own = decoder.layers.state_dict()
    cleaned = {k.removeprefix("layers."): v for k, v in state.items()}
    if set(cleaned) != set(own) or any(cleaned[k].shape != own[k].shape for k in own):
        missing = sorted(set(own) - set(cleaned))
        unexpected = sorted(set(cleaned) - set(own))
        raise WeightsError(
            f"{str(path)!r} is not pytorch-AdaIN's decoder.pth layout (missing: "
            f"{', '.join(missing[:4]) or 'none'}; unexpected: {', '.join(unexpected[:4]) or 'none'}"
            "); expected the state dict of net.decoder, keys 1.weight ... 28.bias"
        )
    decoder.layers.load_state_dict({k: v.float() for k, v in cleaned.items()})
    return decoder.eval()
