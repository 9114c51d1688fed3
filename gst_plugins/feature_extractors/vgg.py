"""VGG16 and VGG19 feature extractors in torchvision's exact layout.

The convolutions sit at the same indices of a ``features`` ``nn.Sequential``
as in ``torchvision.models.vgg16/vgg19``, so a torchvision state dict
(``features.0.weight``, ``features.0.bias``, ...) loads unchanged; the
classifier keys of a full checkpoint are ignored. Taps are named like the
papers: ``conv1_1``, ``relu1_1``, ..., ``pool1``, ..., ``relu5_4``.

Where the weights come from is described in :mod:`.weights`; pass
``weights="random"`` for a seeded random network (timing, structure tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.errors import GstError
from gst_core.interfaces import FeatureExtractor

from .weights import WeightsError, env_vars, find_weights, read_state_dict, weights_source

__all__ = ["VGG", "VGG16", "VGG19", "LayerError"]

# Convolutions per block (torchvision configs "D" and "E").
_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_WIDTHS = (64, 128, 256, 512, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class LayerError(GstError, ValueError):
    """A requested tap does not exist in the network."""


def _layout(arch: str) -> list[tuple[str, str, int]]:
    """``(kind, tap name, block width)`` per ``features`` index, kind in conv/relu/pool."""
    out: list[tuple[str, str, int]] = []
    for block, (convs, width) in enumerate(zip(_BLOCKS[arch], _WIDTHS, strict=True), start=1):
        for i in range(1, convs + 1):
            out.append(("conv", f"conv{block}_{i}", width))
            out.append(("relu", f"relu{block}_{i}", width))
        out.append(("pool", f"pool{block}", width))
    return out


def check_layers(layers: Sequence[str], available: Sequence[str], owner: str) -> tuple[str, ...]:
    """Validate tap names, in network order; unknown names list what exists."""
    if isinstance(layers, str):
        layers = (layers,)
    unknown = [name for name in layers if name not in available]
    if unknown:
        import difflib

        hints = [
            f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
            for name in unknown
            for close in [difflib.get_close_matches(name, available, n=1)]
        ]
        raise LayerError(
            f"{owner} has no layer {', '.join(hints)}; available: {', '.join(available)}"
        )
    return tuple(name for name in available if name in set(layers))


class VGG(FeatureExtractor):
    """A VGG network cut after the deepest requested tap.

    Args:
        layers: taps to return (any of :attr:`available_layers`).
        weights: a ``.pth``/``.safetensors`` torchvision-format state dict; ``None``
            looks at ``$GST_VGG_WEIGHTS`` and then torchvision's cache;
            ``"random"`` uses seeded random weights.
        pooling: ``"max"`` (torchvision) or ``"avg"`` (Gatys et al. found average
            pooling gives slightly smoother results).
        width_multiplier: scales every channel count (only ``1.0`` takes real weights;
            smaller widths make fast structure tests).
        seed: the seed of ``weights="random"``.
        channels_last: run the convolutions in NHWC memory layout. On the 2-core CPU
            (oneDNN, torch 2.13) a forward+backward to conv3_1 with Gram losses took
            0.82× the time of NCHW at 256² and 0.74× at 512² (interleaved runs).
    """

    arch: ClassVar[str] = ""
    default_content_layers: ClassVar[tuple[str, ...]] = ("relu4_2",)
    default_style_layers: ClassVar[tuple[str, ...]] = (
        "relu1_1",
        "relu2_1",
        "relu3_1",
        "relu4_1",
        "relu5_1",
    )

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        weights: str | os.PathLike[str] | None = None,
        pooling: Literal["max", "avg"] = "max",
        width_multiplier: float = 1.0,
        seed: int = 0,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if pooling not in ("max", "avg"):
            raise GstError(f"pooling={pooling!r} is not supported; use 'max' or 'avg'")
        self._plan = _layout(self.arch)
        self.layers = check_layers(
            layers or self.default_content_layers + self.default_style_layers,
            self.available_layers,
            type(self).__name__,
        )
        modules: list[nn.Module] = []
        in_ch = 3
        for kind, _, width in self._plan:
            if kind == "conv":
                out_ch = max(1, round(width * width_multiplier))
                modules.append(nn.Conv2d(in_ch, out_ch, 3, padding=1))
                in_ch = out_ch
            elif kind == "relu":
                modules.append(nn.ReLU(inplace=False))
            else:
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                # ceil_mode, as Caffe's VGG that neural-style optimises through: with
                # floor an odd-sized map drops its last row/column, and those pixels
                # reach deeper layers only through the convolutions' borders (half the
                # gradient of the first row, measured at 37×45), so they drift under
                # Gatys. Even sizes (224, 256) are unchanged.
                modules.append(pool(kernel_size=2, stride=2, ceil_mode=True))
        self.features = nn.Sequential(*modules)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.weights_source = self._init_weights(weights, width_multiplier, seed)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.features.to(memory_format=self.memory_format)
        self.requires_grad_(False)
        self.eval()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.arch:
            cls.available_layers = tuple(name for _, name, _ in _layout(cls.arch))

    def _init_weights(
        self, weights: str | os.PathLike[str] | None, width_multiplier: float, seed: int
    ) -> str:
        if isinstance(weights, str) and weights == "random":
            generator = torch.Generator().manual_seed(seed)
            for module in self.features:
                if isinstance(module, nn.Conv2d):
                    # torchvision's VGG initialisation.
                    nn.init.kaiming_normal_(
                        module.weight, mode="fan_out", nonlinearity="relu", generator=generator
                    )
                    nn.init.zeros_(module.bias)
            return "random"
        path = find_weights(self.arch, weights)
        if path is None:
            raise WeightsError(
                f"no {self.arch} weights configured: pass weights='/path/{self.arch}.pth' "
                "(a torchvision state dict, or .safetensors), set "
                f"{env_vars(self.arch)[0]}, or place "
                f"torchvision's checkpoint in {torch.hub.get_dir()}/checkpoints; "
                "weights='random' gives a random network (for timing only)"
            )
        if width_multiplier != 1.0:
            raise WeightsError(
                f"width_multiplier={width_multiplier} cannot take pretrained weights; use 1.0"
            )
        self.load_torchvision_state_dict(
            read_state_dict(path, source=weights_source(weights, self.arch)), source=str(path)
        )
        return str(Path(path))

    def load_torchvision_state_dict(self, state: dict[str, Tensor], *, source: str) -> None:
        """Load ``features.N.weight``/``.bias`` keys; errors list missing/unexpected keys."""
        own = {f"features.{k}": v for k, v in self.features.state_dict().items()}
        cleaned: dict[str, Tensor] = {}
        for key, value in state.items():
            key = key.removeprefix("module.")
            if key.split(".", 1)[0].isdigit():  # a saved ``vgg.features`` on its own
                key = f"features.{key}"
            if key.startswith("classifier."):
                continue  # a full torchvision checkpoint; the classifier is not used
            cleaned[key] = value
        missing = sorted(set(own) - set(cleaned), key=_key_order)
        unexpected = sorted(set(cleaned) - set(own), key=_key_order)
        wrong_shape = [
            f"{k}: file {tuple(cleaned[k].shape)} vs network {tuple(own[k].shape)}"
            for k in sorted(set(own) & set(cleaned), key=_key_order)
            if cleaned[k].shape != own[k].shape
        ]
        if missing or unexpected or wrong_shape:
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(unexpected)}")
            if wrong_shape:
                parts.append(f"wrong shapes: {'; '.join(wrong_shape)}")
            raise WeightsError(
                f"{source!r} is not a torchvision {self.arch} state dict ({'; '.join(parts)}); "
                f"expected keys like features.0.weight as saved by "
                f"torchvision.models.{self.arch}().state_dict()" + _which_network(cleaned)
            )
        self.features.load_state_dict(
            {k.removeprefix("features."): v.float() for k, v in cleaned.items()}
        )

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        return dict(self.iter_taps(images))

    def iter_taps(self, images: Tensor) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(name, features)`` for each tap in :attr:`layers`, as soon as it is computed.

        A pipeline that builds each tap's loss term before asking for the next one
        lets autograd free each layer's gradient as it goes (see StyleTransfer).
        """
        wanted = set(self.layers)
        remaining = len(wanted)
        x = ((images - self.mean) / self.std).contiguous(memory_format=self.memory_format)
        prev_name = ""
        for module, (kind, name, _) in zip(self.features, self._plan, strict=False):
            if kind == "relu":
                # In place is safe (and saves one activation) unless the conv output is a tap.
                x = F.relu(x, inplace=prev_name not in wanted)
            else:
                x = module(x)
            if name in wanted:
                yield name, x
                remaining -= 1
                if remaining == 0:
                    return  # nothing deeper is needed
            prev_name = name

    def activation_bytes_per_pixel(self) -> float:
        """Float32 bytes of activations kept for backward, per input pixel (for memory guards)."""
        total, scale = 0.0, 1.0
        deepest = max(i for i, (_, n, _) in enumerate(self._plan) if n in self.layers)
        for module, (kind, _, _) in zip(self.features, self._plan[: deepest + 1], strict=False):
            if kind == "conv":
                total += module.out_channels * scale
            elif kind == "pool":
                scale /= 4
        # conv output + relu output (+ its gradient in backward), 4 bytes each.
        return total * 3 * 4


def _key_order(key: str) -> tuple[int, str]:
    parts = key.split(".")
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 10**6, key)


class VGG16(VGG):
    """VGG16 (torchvision ``vgg16`` layout, 13 convolutions)."""

    arch = "vgg16"


class VGG19(VGG):
    """VGG19 (torchvision ``vgg19`` layout, 16 convolutions), the network of Gatys et al."""

    arch = "vgg19"


# Convolutions in torchvision's VGG feature stacks: how a file says which network it is for.
_CONVS = {13: "vgg16", 16: "vgg19"}


def _which_network(state: dict[str, Tensor]) -> str:
    """``; it holds vgg16 weights: ...`` when the file is another VGG's, else ``""``."""
    convs = sum(1 for k, v in state.items() if k.startswith("features.") and v.dim() == 4)
    arch = _CONVS.get(convs)
    if arch is None:
        return ""
    return (
        f"; the file holds {arch} weights ({convs} convolutions): give it to {arch} "
        f"(set {env_vars(arch)[0]}, or weights= in its [feature_extractor])"
    )
