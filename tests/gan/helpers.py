"""Tiny components for fast GAN tests."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from gst_core.kinds import discriminators, generators, losses, registry
from gst_plugins.objectives.gan import GANObjective

# Small enough that a training step takes milliseconds on a shared 2-core CPU.
TINY = {"image_size": 16, "width": 8, "latent_dim": 8, "channels": 3}


def build_tiny(kind: str, name: str, **overrides: Any):
    """Build a registered component with whichever of the tiny settings its factory accepts."""
    factory = registry(kind).get(name)
    params = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in TINY.items() if k in params}
    kwargs.update(overrides)
    return registry(kind).build(name, **kwargs)


def make_objective(width: int = 8, seed: int = 0, **kwargs) -> GANObjective:
    torch.manual_seed(seed)
    g = generators.build(
        "dcgan_conditional", num_classes=4, image_size=16, width=width, latent_dim=8
    )
    d = discriminators.build("projection", num_classes=4, image_size=16, width=width)
    return GANObjective(g, d, losses.build("hinge"), **kwargs)


def network_weights(trainer) -> dict[str, torch.Tensor]:
    """Every network's state, as ``{"generator.net.0.weight": tensor, ...}`` copies."""
    return {
        f"{n}.{k}": v.clone()
        for n, net in trainer.networks.items()
        for k, v in net.state_dict().items()
    }
