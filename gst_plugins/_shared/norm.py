"""The normalisation layers of the pix2pix/CycleGAN networks, chosen by name.

As in the reference code, ``"instance"`` is InstanceNorm without affine
parameters or running statistics, and convolutions followed by it keep their
bias; ``"batch"`` is BatchNorm (affine), and the convolutions before it drop
their bias, which BatchNorm's shift makes redundant.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from gst_plugins._shared.blocks import ArchitectureError

NORMS = ("instance", "batch", "none")


def norm_layer(norm: str, owner: str) -> tuple[Callable[[int], nn.Module], bool]:
    """``(make_norm(channels), conv_bias)`` for ``norm`` in :data:`NORMS`."""
    if norm == "instance":
        return (lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)), True
    if norm == "batch":
        return (lambda c: nn.BatchNorm2d(c, affine=True, track_running_stats=True)), False
    if norm == "none":
        return (lambda c: nn.Identity()), True
    raise ArchitectureError(f"{owner}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
