"""``vgg_normalised``: pytorch-AdaIN's encoder, loadable from its ``vgg_normalised.pth``.

The layout of that file (``net.vgg`` in naoto0804/pytorch-AdaIN): a 1×1
convolution that does the preprocessing (RGB in ``[0, 1]`` → BGR scaled to
Caffe's 0..255 with the mean removed, learned into the weights), then VGG19's
convolutions, each after a 1-pixel *reflection* pad (not zero padding as
torchvision's), ReLU, and max pooling with ``ceil_mode=True``. Modules sit at
the reference Sequential's indices (``0.weight``, ``2.weight``, ...,
``29.weight`` is ``conv4_1``), so the file loads as it is; deeper keys than
the taps need are ignored, and a file cut after ``relu4_1`` (as the
reference's training uses it) is enough for AdaIN's taps.

Taps are named as in :mod:`.vgg` (``relu1_1`` … ``relu5_4``, ``pool1`` …);
the default taps are AdaIN's ``relu1_1, relu2_1, relu3_1, relu4_1``. Inputs
are images in ``[0, 1]`` with no further normalisation (the 1×1 conv has it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor, nn

from gst_core.interfaces import FeatureExtractor

from .vgg import check_layers
from .weights import WeightsError, read_state_dict

__all__ = ["ADAIN_TAPS", "VGGNormalised"]

ADAIN_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
_BLOCKS = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))


def _plan() -> list[tuple[str, str, int]]:
    """``(kind, tap, width)`` for each module of the reference Sequential after index 0."""
    plan: list[tuple[str, str, int]] = []
    for block, (convs, width) in enumerate(_BLOCKS, start=1):
        for i in range(1, convs + 1):
            plan += [("pad", "", width), ("conv", f"conv{block}_{i}", width),
                     ("relu", f"relu{block}_{i}", width)]  # fmt: skip
        if block < len(_BLOCKS):
            plan.append(("pool", f"pool{block}", width))
    return plan


class VGGNormalised(FeatureExtractor):
    """pytorch-AdaIN's ``vgg_normalised`` network, cut after the deepest requested tap.

    Args:
        layers: taps to return (default AdaIN's four).
        weights: the ``vgg_normalised.pth`` file (required), or ``"random"`` for a seeded
            random network in the same layout (tests, timing).
        seed: the seed of ``weights="random"``.
    """

    available_layers: ClassVar[tuple[str, ...]] = tuple(n for _, n, _ in _plan() if n)
    default_content_layers: ClassVar[tuple[str, ...]] = ("relu4_1",)
    default_style_layers: ClassVar[tuple[str, ...]] = ADAIN_TAPS

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        weights: str | os.PathLike[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.layers = check_layers(layers or ADAIN_TAPS, self.available_layers, "vgg_normalised")
        plan = _plan()
        deepest = max(i for i, (_, n, _) in enumerate(plan) if n in self.layers)
        self._plan = plan[: deepest + 1]
        modules: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
        channels = 3
        for kind, _, width in self._plan:
            if kind == "pad":
                modules.append(nn.ReflectionPad2d(1))
            elif kind == "conv":
                modules.append(nn.Conv2d(channels, width, 3))
                channels = width
            elif kind == "relu":
                modules.append(nn.ReLU())
            else:
                modules.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        self.net = nn.Sequential(*modules)
        self.weights_source = self._load(weights, seed)
        self.requires_grad_(False)
        self.eval()

    def _load(self, weights: str | os.PathLike[str] | None, seed: int) -> str:
        if weights is None:
            raise WeightsError(
                "vgg_normalised needs its weights file: weights = 'vgg_normalised.pth' "
                "(pytorch-AdaIN's encoder); weights = 'random' gives a random network"
            )
        if isinstance(weights, str) and weights == "random":
            generator = torch.Generator().manual_seed(seed)
            for module in self.net:
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(
                        module.weight, mode="fan_out", nonlinearity="relu", generator=generator
                    )
                    nn.init.zeros_(module.bias)
            return "random"
        state = read_state_dict(weights, source="argument")
        own = self.net.state_dict()
        missing = [k for k in own if k not in state]
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        if missing or wrong:
            detail = (f"missing keys {', '.join(missing[:4])}" if missing else "") + (
                f"{'; ' if missing else ''}wrong shapes at {', '.join(wrong[:4])}" if wrong else ""
            )
            raise WeightsError(
                f"{str(weights)!r} is not pytorch-AdaIN's vgg_normalised.pth layout ({detail}); "
                "expected the state dict of its net.vgg (keys 0.weight, 2.weight, ..., "
                "29.weight for conv4_1)"
            )
        self.net.load_state_dict({k: state[k].float() for k in own})
        return str(Path(weights))

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        return dict(self.iter_taps(images))

    def iter_taps(self, images: Tensor) -> Iterator[tuple[str, Tensor]]:
        wanted, left = set(self.layers), len(self.layers)
        x = self.net[0](images)
        for module, (_, name, _) in zip(self.net[1:], self._plan, strict=True):
            x = module(x)
            if name in wanted:
                yield name, x
                left -= 1
                if not left:
                    return
