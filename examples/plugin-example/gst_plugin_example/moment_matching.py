"""A training method without a discriminator: match the data's per-pixel mean and spread.

A small, complete objective plugin: it builds its generator from the TOML
``[generator]`` section, records how (so ``gst sample`` can rebuild it from a
checkpoint), trains it with one optimiser and shows previews. ``gst train
example_moments --config run.toml`` then gives it the trainer's progress bar,
checkpoints, exact resume, EMA and PNG grids, with no change to gst.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from gst_core import ImageGenerator, Objective, Preview, StepContext, TrainingSetupError
from gst_core.config import component, construct, options


class MomentMatching(Objective):
    """Minimise ``‖mean(G(z)) − mean(x)‖² + ‖std(G(z)) − std(x)‖²`` per pixel over a batch."""

    ema_networks = ("generator",)

    def __init__(self, generator: ImageGenerator, *, std_weight: float = 1.0) -> None:
        if generator.input_kind != "latent":
            raise TrainingSetupError("example_moments needs a latent (noise-to-image) generator")
        self.generator = generator
        self.std_weight = float(std_weight)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str = "<config>") -> MomentMatching:
        generator, spec = component(config, "generator", {"name": "example_mlp"}, source)
        objective = construct(cls, generator, options=options(config), source=source)
        objective.network_specs = {"generator": {"kind": "generator", **spec}}
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def config(self) -> dict[str, Any]:
        return {"std_weight": self.std_weight}

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        fake = nets["generator"](self.generator.sample_latent(real.shape[0]))
        mean_gap = (fake.mean(0) - real.mean(0)).pow(2).mean()
        std_gap = (fake.std(0) - real.std(0)).pow(2).mean()
        loss = mean_gap + self.std_weight * std_gap
        ctx.optimize("generator", loss)
        return {"loss": loss.detach(), "mean_gap": mean_gap.detach()}

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        generator = networks["generator"]
        device = next(generator.parameters()).device
        rng = torch.Generator(device=device).manual_seed(0)  # never the global RNG
        z = torch.randn(count, self.generator.latent_dim, generator=rng, device=device)
        return Preview(generator(z), max(1, math.ceil(math.sqrt(count))))
