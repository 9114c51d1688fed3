"""Thumbnail Instance Normalization: one set of instance-norm statistics for every tile.

An instance-norm network (CycleGAN's ResNet, ``transformer_net``) normalises
each feature map by its own mean and variance over the whole image. Run tile
by tile, every tile would be normalised by its own statistics and the tiles
would disagree in brightness and contrast: visible seams. Chen et al.,
"Towards Ultra-Resolution Neural Style Transfer via Thumbnail Instance
Normalization" (AAAI 2022), compute the statistics once, from a thumbnail of
the whole image, and use them in every tile. That is what this module does:

    stats = thumbnail_statistics(generator, thumbnail)   # a forward pass records them
    with fixed_instance_norm(generator, stats):
        ...tiles...                                        # every tile uses them

Only :class:`torch.nn.InstanceNorm2d` layers that compute per-image statistics
are affected; batch norm in eval mode (and instance norm with running
statistics in eval mode) already uses fixed statistics and needs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

__all__ = [
    "InstanceStats",
    "fixed_instance_norm",
    "per_image_norm_layers",
    "thumbnail_statistics",
]

#: Per layer (in ``generator.modules()`` order): mean and biased variance, each ``(B, C)``.
InstanceStats = list[tuple[Tensor, Tensor]]


def per_image_norm_layers(generator: nn.Module) -> list[nn.InstanceNorm2d]:
    """The instance-norm layers of ``generator`` that normalise by each image's own statistics."""
    return [
        m
        for m in generator.modules()
        if isinstance(m, nn.InstanceNorm2d) and not (m.track_running_stats and not m.training)
    ]


def _normalise(layer: nn.InstanceNorm2d, x: Tensor, mean: Tensor, var: Tensor) -> Tensor:
    b, c = mean.shape
    if x.shape[0] != b:
        raise ValueError(
            f"fixed instance-norm statistics are for a batch of {b}, got a tile batch of "
            f"{x.shape[0]}"
        )
    y = (x - mean.view(b, c, 1, 1)) * torch.rsqrt(var.view(b, c, 1, 1) + layer.eps)
    if layer.affine:
        y = y * layer.weight.view(1, c, 1, 1) + layer.bias.view(1, c, 1, 1)
    return y


@contextmanager
def _patched(layers: list[nn.InstanceNorm2d], make: Callable[[int, nn.InstanceNorm2d], Callable]):
    for i, layer in enumerate(layers):
        layer.forward = make(i, layer)  # an instance attribute shadows the class's forward
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward


@torch.no_grad()
def thumbnail_statistics(generator: nn.Module, run: Callable[[], object]) -> InstanceStats:
    """Run ``run()`` (a forward pass of ``generator`` on the thumbnail) and return the
    statistics each per-image instance-norm layer computed, in order."""
    layers = per_image_norm_layers(generator)
    stats: InstanceStats = [None] * len(layers)  # type: ignore[list-item]

    def make(i: int, layer: nn.InstanceNorm2d):
        def forward(x: Tensor) -> Tensor:
            var, mean = torch.var_mean(x.float(), dim=(2, 3), correction=0)
            stats[i] = (mean, var)
            return _normalise(layer, x, mean.to(x.dtype), var.to(x.dtype))

        return forward

    with _patched(layers, make):
        run()
    missing = [i for i, s in enumerate(stats) if s is None]
    if missing:
        raise RuntimeError(f"{len(missing)} instance-norm layer(s) were not run on the thumbnail")
    return stats


@contextmanager
def fixed_instance_norm(generator: nn.Module, stats: InstanceStats) -> Iterator[None]:
    """Within the block, ``generator``'s per-image instance-norm layers use ``stats``."""
    layers = per_image_norm_layers(generator)
    if len(layers) != len(stats):
        raise ValueError(f"{len(stats)} statistics for {len(layers)} instance-norm layers")

    def make(i: int, layer: nn.InstanceNorm2d):
        mean, var = stats[i]
        return lambda x: _normalise(layer, x, mean.to(x.device, x.dtype), var.to(x.device, x.dtype))

    with _patched(layers, make):
        yield
