"""Weight initialisation schemes for networks, as the pix2pix/CycleGAN code offers them.

``init_weights(net, "normal", gain=0.02)`` is the reference's default: every
convolution and linear weight drawn from N(0, gain), biases zero, BatchNorm
scales from N(1, gain). ``xavier`` and ``orthogonal`` use ``gain`` as the
scale factor, ``kaiming`` ignores it (fan-in, ReLU). Draws come from torch's
global RNG, which the trainer seeds, so a seed fixes the starting weights.
"""

from __future__ import annotations

from torch import nn

from gst_core.errors import GstError

__all__ = ["INIT_SCHEMES", "init_weights"]

INIT_SCHEMES = ("normal", "xavier", "kaiming", "orthogonal")


class InitError(GstError, ValueError):
    """An unknown initialisation scheme or a bad gain."""


def check_init(init: str, gain: float, owner: str = "network") -> None:
    if init not in INIT_SCHEMES:
        raise InitError(f"{owner}: init must be one of {', '.join(INIT_SCHEMES)}, got {init!r}")
    if not isinstance(gain, int | float) or gain <= 0:
        raise InitError(f"{owner}: init_gain must be a positive number, got {gain!r}")


def init_weights(module: nn.Module, init: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise ``module``'s conv/linear/BatchNorm layers in place; returns ``module``."""
    check_init(init, gain, type(module).__name__)
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            sn = getattr(m, "parametrizations", None)
            weight = sn.weight.original if sn is not None else m.weight
            if init == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif init == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif init == "kaiming":
                nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            # As the reference: BatchNorm's scale is not a matrix, so it is N(1, gain) always.
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return module
