"""pytorch-AdaIN's ``decoder.pth`` (naoto0804/pytorch-AdaIN) as gst's ``adain`` model.

The file is the state dict of its ``net.decoder``, an ``nn.Sequential`` of
reflection pads, 3×3 convolutions, ReLUs and nearest upsamplings: only the nine
convolutions have weights, at indices 1, 5, 8, 11, 14, 18, 21, 25 and 28
(``1.weight`` is ``(256, 512, 3, 3)``, ``28.weight`` is ``(3, 64, 3, 3)``).
gst's ``adain_decoder`` keeps its modules at the same indices under ``layers.``.

The decoder only makes sense behind the encoder it was trained with:
pytorch-AdaIN's ``vgg_normalised.pth`` (``--encoder``). Without it the default
extractor is used (torchvision-format VGG19 weights, found as everywhere in
gst) with a warning: its features are on another scale, so the output differs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import Tensor

from gst_core.errors import GstError

__all__ = [
    "TAPS",
    "adain_encoder_spec",
    "decoder_spec",
    "is_reference_decoder",
    "is_reference_vgg",
]

#: AdaIN's taps in gst's names; the decoder inverts the last (objective ``adain``'s default).
TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
DEFAULT_ENCODER_NOTICE = (
    "gst: warning: no --encoder given, so the decoder runs behind gst's default VGG19; it was "
    "trained behind pytorch-AdaIN's vgg_normalised.pth, whose features are on another scale: "
    "for the outputs pytorch-AdaIN gives, import again with --encoder vgg_normalised.pth"
)
_INDEXED = re.compile(r"\d+\.(weight|bias)")


def _indexed(state: Mapping[str, Tensor]) -> bool:
    return bool(state) and all(_INDEXED.fullmatch(k) for k in state)


def is_reference_decoder(state: Mapping[str, Tensor]) -> bool:
    """Keys of a bare Sequential whose first and last convolutions are the decoder's."""
    first, last = state.get("1.weight"), state.get("28.weight")
    return (
        _indexed(state)
        and first is not None
        and first.dim() == 4
        and tuple(first.shape[-2:]) == (3, 3)
        and last is not None
        and last.dim() == 4
        and last.shape[0] == 3
    )


def is_reference_vgg(state: Mapping[str, Tensor]) -> bool:
    """pytorch-AdaIN's encoder file: a bare Sequential starting with the 1×1 colour conv."""
    first = state.get("0.weight")
    return _indexed(state) and first is not None and tuple(first.shape) == (3, 3, 1, 1)


def decoder_spec(state: Mapping[str, Tensor]) -> dict[str, Any]:
    """``adain_decoder``'s options from the first convolution (512 → 256 at full width)."""
    first = state["1.weight"]
    return {
        "name": "adain_decoder",
        "width_multiplier": float(first.shape[0]) / 256,
        "in_channels": int(first.shape[1]),
    }


def adain_encoder_spec(encoder: str | Path | None, channels: int) -> dict[str, Any]:
    """The encoder's spec for a decoder taking ``channels`` features: ``vgg_normalised``
    with the file given, else the default VGG19 (a warning on stderr). Built once here,
    so a wrong file or a missing default is said before anything is written."""
    from gst_core.apply.peer_import import PeerImportError  # here: it imports this module
    from gst_core.kinds import feature_extractors

    if encoder is not None:
        path = Path(encoder).expanduser()
        if not path.is_file():
            raise PeerImportError(
                f"--encoder {str(encoder)!r} does not exist; give pytorch-AdaIN's "
                "vgg_normalised.pth"
            )
        spec: dict[str, Any] = {"name": "vgg_normalised", "weights": str(path.resolve())}
    else:
        spec = {"name": "vgg19"}
    try:
        built = feature_extractors.build({**spec, "layers": [TAPS[-1]]})
    except GstError as exc:
        if encoder is not None:
            raise
        raise PeerImportError(
            "the decoder needs its encoder and none was found: pass --encoder "
            "vgg_normalised.pth (pytorch-AdaIN's, the one it was trained with); gst's default "
            f"VGG19 is not available either ({exc})"
        ) from exc
    import torch

    with torch.no_grad():
        got = built(torch.rand(1, 3, 16, 16))[TAPS[-1]].shape[1]
    if got != channels:
        raise PeerImportError(
            f"the encoder {spec['name']} gives {got} channels at {TAPS[-1]} but the decoder "
            f"takes {channels}; give the encoder it was trained with (--encoder)"
        )
    if encoder is None:
        print(DEFAULT_ENCODER_NOTICE, file=sys.stderr)
    return spec
