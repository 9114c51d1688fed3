"""The ``pix2pix`` objective (Isola et al. 2017): paired image-to-image translation.

A conditional GAN: the discriminator judges the input and an output
concatenated on channels (so it learns whether B fits A), and the generator
minimises ``gan_weight · adversarial + l1_weight · |G(A) − B|₁`` (λ = 100, as
the reference). Each step updates the discriminator on ``(A, B)`` against
``(A, G(A))``, then the generator, in the reference's order.

Config: ``[generator]`` (default ``unet_256``, batch norm), ``[discriminator]``
(default ``patchgan`` with batch norm, as the reference's ``norm='batch'`` applies
to G and D, or the generator's ``norm`` when it sets one; its ``channels``
default to the generator's input + output channels), ``[loss]`` (default
``non_saturating``, the reference's ``vanilla``), ``[objective]``
(``l1_weight``, ``gan_weight``), ``[data]`` (``paired`` or ``paired_shapes``).
Previews are rows of input | output | target.

Logged losses are on the reference's scale: ``loss_d`` is its ``loss_D``, half
of real + fake (and the discriminator trains on that), and ``gan_weight``
defaults to the factor that makes gst's ``lsgan`` generator term the
reference's ``--gan_mode lsgan`` one (2; 1 for the other losses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gst_core.config import component, construct, options
from gst_core.diff_augment import DiffAugment
from gst_core.errors import TrainingSetupError
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    ImageDataset,
    ImageGenerator,
    Objective,
    Preview,
    StepContext,
)

from . import _i2i
from ._generator_kind import require_image_generator

__all__ = ["Pix2PixObjective"]


class Pix2PixObjective(Objective):
    """Train ``generator`` (A → B) against a conditional ``discriminator`` on paired data."""

    name = "pix2pix"
    ema_networks = ("generator",)
    #: Flags `gst train pix2pix` adds: flag → (config key, help).
    cli_options: ClassVar[dict[str, tuple[str, str]]] = {
        "direction": ("data.direction", "a2b (default) or b2a: which side of a pair is the input"),
    }
    #: The reference's recipe when a config leaves [train] out (see _i2i.REFERENCE_TRAIN).
    default_train: ClassVar[dict[str, Any]] = _i2i.REFERENCE_TRAIN
    #: `gst train pix2pix --data PATH`: the reference's aligned dataset and preprocessing.
    folder_data: ClassVar[dict[str, Any]] = {"name": "paired", **_i2i.REFERENCE_DATA}
    #: Without [data] or --data: the built-in pairs, at unet_256's size.
    default_data: ClassVar[dict[str, Any]] = {
        "name": "paired_shapes",
        "image_size": 256,
        "count": 100,
    }

    def __init__(
        self,
        generator: ImageGenerator,
        discriminator: Discriminator,
        loss: AdversarialLoss,
        *,
        l1_weight: float = 100.0,
        gan_weight: float | None = None,
        augment: str | Sequence[str] | None = None,
    ) -> None:
        require_image_generator(generator, "pix2pix", "unet_256, unet_128, resnet_9blocks, ...")
        if gan_weight is None:
            gan_weight = _i2i.reference_gan_weight(loss)
        for value, what in ((l1_weight, "l1_weight"), (gan_weight, "gan_weight")):
            if not isinstance(value, int | float) or value < 0:
                raise TrainingSetupError(f"pix2pix: {what} must be a number >= 0, got {value!r}")
        want = (generator.in_channels or 0) + (generator.out_channels or 0)
        have = discriminator.image_shape[0]
        if want and have != want:
            raise TrainingSetupError(
                f"pix2pix's discriminator sees input and output concatenated: it needs "
                f"{want} channels, but has {have}; set channels = {want} in [discriminator] "
                "(or leave channels out)"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.l1_weight = float(l1_weight)
        self.gan_weight = float(gan_weight)
        self.d_scale = _i2i.reference_d_scale(loss)
        self._preview: tuple[Tensor, Tensor] | None = None
        # DiffAugment: A and B of each pair get the same draw, so they stay aligned.
        self.augment = DiffAugment(augment)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, source: str = "<config>"
    ) -> Pix2PixObjective:
        generator, g_spec = _i2i.image_generator(config, "unet_256", source, "pix2pix")
        # The reference's --norm is one option for G and D, batch for pix2pix; the
        # discriminator sees input and output concatenated.
        d_default = {"name": "patchgan", "norm": g_spec.get("norm", "batch")}
        channels = generator.in_channels + generator.out_channels
        discriminator, d_spec = component(
            config, "discriminator", d_default, source, fill={"channels": channels}
        )
        loss = _i2i.adversarial_loss(config, "non_saturating", source)
        objective = construct(
            cls, generator, discriminator, loss, options=options(config), source=source
        )
        objective.network_specs = {
            "generator": {"kind": "generator", **g_spec},
            "discriminator": {"kind": "discriminator", **d_spec},
        }
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def config(self) -> dict[str, Any]:
        extra = {"augment": self.augment.policy} if self.augment else {}
        return {"l1_weight": self.l1_weight, "gan_weight": self.gan_weight, **extra}

    def check_data(self, dataset: Any) -> None:
        # Any torch Dataset may feed an objective: a missing flag means the declared default.
        if getattr(dataset, "paired", ImageDataset.paired) is False:
            raise TrainingSetupError(
                "pix2pix needs paired data (A/B folders with matching names, or AB images): "
                'use [data] name = "paired" or "paired_shapes"; for unpaired domains '
                "(trainA/, trainB/) train cyclegan"
            )
        first = _i2i.first_items(dataset, "pix2pix")
        if first is None:
            return
        a, b = first
        _i2i.check_images(a, b, {"generator": (self.generator, "A", "B")}, "pix2pix")
        if a.shape[-2:] != b.shape[-2:]:
            raise TrainingSetupError(
                f"pix2pix: A images are {tuple(a.shape[-2:])} but B images "
                f"{tuple(b.shape[-2:])}; paired images must have the same size"
            )
        self._preview = (a, b)

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        g, d = nets["generator"], nets["discriminator"]
        real_a, real_b = _i2i.split_pair(batch, "pix2pix")
        with ctx.autocast():
            fake_b = g(real_a)
        cond, real_in, fake_in = real_a, real_b, fake_b.detach()
        if self.augment:
            cond, real_in, fake_in = self.augment(real_a, real_b, fake_in)
        with ctx.autocast():
            d.requires_grad_(True)
            real_scores = d(torch.cat([cond, real_in], 1))
            fake_scores = d(torch.cat([cond, fake_in], 1))
            d_loss = self.d_scale * self.loss.discriminator_loss(
                real_scores.float(), fake_scores.float()
            )
        ctx.optimize("discriminator", d_loss)

        # D's weights need no gradients in the generator's update.
        d.requires_grad_(False)
        cond, fake_in = (real_a, fake_b) if not self.augment else self.augment(real_a, fake_b)
        with ctx.autocast():
            gan = self.loss.generator_loss(d(torch.cat([cond, fake_in], 1)).float())
            l1 = (fake_b.float() - real_b.float()).abs().mean()
            g_loss = self.gan_weight * gan + self.l1_weight * l1
        ctx.optimize("generator", g_loss)
        d.requires_grad_(True)
        return {
            "loss_d": d_loss.detach(),
            "loss_g": g_loss.detach(),
            "gan_g": gan.detach(),
            "l1": l1.detach(),
        }

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        if self._preview is None:
            raise TrainingSetupError("pix2pix: no preview images (check_data was not called)")
        g = networks["generator"]
        device = next(g.parameters()).device
        rows = _i2i.preview_rows(self._preview[0], count // 3)
        a, b = (t[:rows].to(device) for t in self._preview)
        images = torch.stack([_i2i.rgb(x) for x in (a, g(a), b)], 1).flatten(0, 1)
        return Preview(images, 3)
