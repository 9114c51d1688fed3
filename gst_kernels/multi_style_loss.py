"""The weighted style loss of several layers in one call."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .backend import (
    KernelInputError,
    prepare_features,
    prepare_target,
    resolve_backend,
    resolve_tf32,
)
from .torch_impl import TorchMultiStyleLoss

__all__ = ["multi_style_loss"]


def multi_style_loss(
    features: Sequence[torch.Tensor],
    targets: Sequence[torch.Tensor],
    weights: Sequence[float] | None = None,
    *,
    backend: str = "auto",
    allow_tf32: bool | None = None,
) -> torch.Tensor:
    """``Σ_i weights[i] · style_loss(features[i], targets[i])`` (weights default to 1).

    One call for a whole style-transfer step. The layers may differ in
    channels and size but must share a device. On the Triton backend every
    layer stores its share of the loss in slots of one buffer, summed in a
    fixed order at the end: per layer one Gram launch and one difference/loss
    launch forward (one fused launch when no gradient is needed and the Gram
    is not split), one launch backward. The result is a fresh tensor, like the
    torch backend's; under ``torch.use_deterministic_algorithms(True)`` it is
    bit-identical run to run (see docs/kernels.md, *Determinism*).
    """
    if isinstance(features, torch.Tensor) or isinstance(targets, torch.Tensor):
        raise KernelInputError(
            "features and targets must be sequences (list/tuple) of tensors, one per layer; "
            "got a single tensor (wrap it in a list, or call style_loss)"
        )
    feats = [prepare_features(f, name=f"features[{i}]") for i, f in enumerate(features)]
    if not feats:
        raise KernelInputError("features must hold at least one layer; got an empty sequence")
    if len(targets) != len(feats):
        raise KernelInputError(
            f"targets must hold one Gram per layer: got {len(targets)} targets "
            f"for {len(feats)} feature maps"
        )
    if weights is None:
        ws = [1.0] * len(feats)
    else:
        if len(weights) != len(feats):
            raise KernelInputError(
                f"weights must hold one number per layer: got {len(weights)} weights "
                f"for {len(feats)} layers"
            )
        try:
            ws = [float(w) for w in weights]
        except (TypeError, ValueError) as exc:
            raise KernelInputError(f"weights must be real numbers; got {list(weights)!r}") from exc
        if not all(math.isfinite(w) for w in ws):
            raise KernelInputError(f"weights must be finite; got {ws!r}")
    device = feats[0].device
    for i, f in enumerate(feats):
        if f.device != device:
            raise KernelInputError(
                f"features[{i}] is on '{f.device}' but features[0] is on '{device}'; "
                "all layers must share a device"
            )
    ts = [
        prepare_target(t, f.shape[0], f.shape[1], device, name=f"targets[{i}]")
        for i, (f, t) in enumerate(zip(feats, targets, strict=True))
    ]
    which = {resolve_backend(backend, f, name=f"features[{i}]") for i, f in enumerate(feats)}
    if which == {"triton"}:
        from .triton_impl import TritonMultiStyleLoss

        return TritonMultiStyleLoss.apply(tuple(ws), resolve_tf32(allow_tf32), *feats, *ts)
    # torch (also when "auto" splits, e.g. a float64 layer among float32 ones)
    return TorchMultiStyleLoss.apply(tuple(ws), *feats, *ts)
