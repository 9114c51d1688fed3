"""Argument checks and layer helpers shared by the DCGAN-family generators and discriminators."""

from __future__ import annotations

import math

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from gst_core.errors import GstError


class ArchitectureError(GstError, ValueError):
    """A network was asked for a shape or width it cannot have."""


def check_image_size(image_size: int, owner: str) -> int:
    """Number of 2× resolution steps between 4×4 and ``image_size`` (a power of two ≥ 8)."""
    if not isinstance(image_size, int) or image_size < 8 or image_size & (image_size - 1):
        raise ArchitectureError(
            f"{owner}: image_size must be a power of two >= 8 (32 and 64 are the DCGAN sizes), "
            f"got {image_size!r}"
        )
    return int(math.log2(image_size)) - 2


def check_positive(value: int, what: str, owner: str) -> None:
    if not isinstance(value, int) or value < 1:
        raise ArchitectureError(f"{owner}: {what} must be a positive integer, got {value!r}")


def check_num_classes(num_classes: int, owner: str, *, required: bool) -> None:
    if not isinstance(num_classes, int) or num_classes < 0:
        raise ArchitectureError(
            f"{owner}: num_classes must be an integer >= 0, got {num_classes!r}"
        )
    if required and num_classes < 1:
        raise ArchitectureError(
            f"{owner} is class-conditional: pass num_classes >= 1 "
            "(the number of labels in the data)"
        )


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalisation (Miyato et al. 2018) when ``enabled``."""
    return _spectral_norm(layer) if enabled else layer


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: N(0, 0.02) weights, BN scale N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear | nn.Embedding):
            sn = getattr(m, "parametrizations", None)
            weight = sn.weight.original if sn is not None else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def check_labels(labels, num_classes: int, batch: int, owner: str) -> None:
    """Reject missing, extra or out-of-range labels with a message that says which."""
    if num_classes == 0:
        if labels is not None:
            raise ArchitectureError(
                f"{owner} is unconditional (num_classes=0) but was given labels; "
                "use a conditional variant or pass labels=None"
            )
        return
    if labels is None:
        raise ArchitectureError(
            f"{owner} is class-conditional (num_classes={num_classes}); pass labels "
            "(a LongTensor of shape (B,))"
        )
    if labels.shape != (batch,):
        raise ArchitectureError(
            f"{owner}: labels must have shape ({batch},), got {tuple(labels.shape)}"
        )
    # Bounds are checked only on CPU: on CUDA the check would force a sync every step,
    # and nn.Embedding reports out-of-range indices there anyway.
    if (
        labels.device.type == "cpu"
        and labels.numel()
        and (int(labels.min()) < 0 or int(labels.max()) >= num_classes)
    ):
        raise ArchitectureError(
            f"{owner}: labels must lie in [0, {num_classes}), got values "
            f"{int(labels.min())}..{int(labels.max())}"
        )
