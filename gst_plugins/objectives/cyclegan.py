"""The ``cyclegan`` objective (Zhu et al. 2017): unpaired image-to-image translation.

Two generators, ``g_ab`` (A → B) and ``g_ba`` (B → A), and two discriminators,
``d_b`` (real B against g_ab's outputs) and ``d_a`` (real A against g_ba's).
The generators minimise, in one update, the adversarial terms plus
``cycle_weight · (|g_ba(g_ab(A)) − A|₁ + |g_ab(g_ba(B)) − B|₁)`` (λ = 10 per
direction) plus ``identity_weight · cycle_weight · (|g_ab(B) − B|₁ + |g_ba(A) − A|₁)``
(0.5, as the reference); then the discriminators update on fakes mixed with a
history of older fakes (an :class:`ImagePool` of ``pool_size`` 50 per
domain, checkpointed with its random state).

Config: ``[generator]`` (default ``resnet_9blocks``; both directions are built
from it), ``[discriminator]`` (default ``patchgan``; both), ``[loss]``
(default ``lsgan``, as the reference), ``[objective]`` (``cycle_weight``,
``identity_weight``, ``pool_size``, ``gan_weight``; ``temporal_weight`` /
``temporal_shift`` / ``temporal_noise`` / ``temporal_samples`` / ``temporal_start`` /
``temporal_warp``,
default off: the compound temporal
regularisation of ``fast_style`` for video, on both generators, its flows from a
checkpointed generator seeded like the pools), ``[data]`` (``unpaired``
or ``unpaired_shapes``). Optimiser groups: ``generator`` (both generators, one
Adam as the reference) and ``discriminator`` (both). Previews are rows of
A | G(A) | F(G(A)) and B | F(B) | G(F(B)).
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
    ImageGenerator,
    Objective,
    Preview,
    StepContext,
)
from gst_plugins._shared.temporal import TemporalTerm

from . import _i2i
from ._generator_kind import require_image_generator
from .image_pool import ImagePool

__all__ = ["CycleGANObjective"]


class CycleGANObjective(Objective):
    """Train ``g_ab``/``g_ba`` against ``d_b``/``d_a`` with cycle and identity losses."""

    name = "cyclegan"
    ema_networks = ("g_ab", "g_ba")
    #: The reference's recipe when a config leaves [train] out (see _i2i.REFERENCE_TRAIN).
    default_train: ClassVar[dict[str, Any]] = _i2i.REFERENCE_TRAIN
    #: `gst train cyclegan --data PATH`: the reference's unaligned dataset and preprocessing.
    folder_data: ClassVar[dict[str, Any]] = {"name": "unpaired", **_i2i.REFERENCE_DATA}
    #: Without [data] or --data: the built-in day/night shapes, at 256² as the reference.
    default_data: ClassVar[dict[str, Any]] = {
        "name": "unpaired_shapes",
        "image_size": 256,
        "count": 100,
    }

    def __init__(
        self,
        g_ab: ImageGenerator,
        g_ba: ImageGenerator,
        d_a: Discriminator,
        d_b: Discriminator,
        loss: AdversarialLoss,
        *,
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        gan_weight: float | None = None,
        pool_seed: int | None = None,
        augment: str | Sequence[str] | None = None,
        temporal_weight: float = 0.0,
        temporal_shift: float = 8.0,
        temporal_noise: float = 0.02,
        temporal_samples: int = 0,
        temporal_start: int = 0,
        temporal_warp: str = "bilinear",
    ) -> None:
        for g in (g_ab, g_ba):
            require_image_generator(g, "cyclegan", "resnet_9blocks, resnet_6blocks, unet_256, ...")
        for value, what in ((cycle_weight, "cycle_weight"), (identity_weight, "identity_weight")):
            if not isinstance(value, int | float) or value < 0:
                raise TrainingSetupError(f"cyclegan: {what} must be a number >= 0, got {value!r}")
        if identity_weight and g_ab.in_channels != g_ab.out_channels:
            raise TrainingSetupError(
                "cyclegan: the identity loss compares g_ab(B) with B, so it needs as many input "
                "as output channels; set identity_weight = 0 for domains with different channels"
            )
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.loss = loss
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.gan_weight = (
            _i2i.reference_gan_weight(loss) if gan_weight is None else float(gan_weight)
        )
        self.d_scale = _i2i.reference_d_scale(loss)  # 1 for lsgan, the default
        # The pools draw from their own generators, seeded from the run's seed by default.
        seed = torch.initial_seed() if pool_seed is None else int(pool_seed)
        self.pool_a = ImagePool(pool_size, seed)
        self.pool_b = ImagePool(pool_size, seed + 1)
        self.temporal = TemporalTerm.checked(
            "cyclegan",
            temporal_weight,
            temporal_shift,
            temporal_noise,
            temporal_samples,
            start=temporal_start,
            warp=temporal_warp,
        )
        self.temporal_rng = torch.Generator().manual_seed(seed + 2)  # its flows and noise
        self._preview: tuple[Tensor, Tensor] | None = None
        self.augment = DiffAugment(augment)  # before every D call, real and fake alike

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, source: str = "<config>"
    ) -> CycleGANObjective:
        g_ab, g_spec = _i2i.image_generator(config, "resnet_9blocks", source, "cyclegan")
        # g_ba maps B back to A: the same architecture with the channel counts swapped.
        swapped = {"in_channels": g_ab.out_channels, "out_channels": g_ab.in_channels}
        named = "in_channels" in g_spec or "out_channels" in g_spec
        ba_config = {**config, "generator": {**g_spec, **swapped}} if named else config
        g_ba, ba_spec = _i2i.image_generator(ba_config, "resnet_9blocks", source, "cyclegan")
        # Each discriminator sees one domain: d_a A images, d_b B images.
        d_default = {"name": "patchgan"}
        d_a, da_spec = component(
            config, "discriminator", d_default, source, fill={"channels": g_ab.in_channels}
        )
        d_b, db_spec = component(
            config, "discriminator", d_default, source, fill={"channels": g_ab.out_channels}
        )
        loss = _i2i.adversarial_loss(config, "lsgan", source)
        objective = construct(
            cls, g_ab, g_ba, d_a, d_b, loss, options=options(config), source=source
        )
        objective.network_specs = {
            "g_ab": {"kind": "generator", **g_spec},
            "g_ba": {"kind": "generator", **ba_spec},
            "d_a": {"kind": "discriminator", **da_spec},
            "d_b": {"kind": "discriminator", **db_spec},
        }
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"g_ab": self.g_ab, "g_ba": self.g_ba, "d_a": self.d_a, "d_b": self.d_b}

    def optimizer_groups(self) -> dict[str, list[str]]:
        return {"generator": ["g_ab", "g_ba"], "discriminator": ["d_a", "d_b"]}

    def config(self) -> dict[str, Any]:
        return {
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_a.size,
            "gan_weight": self.gan_weight,
            **({"augment": self.augment.policy} if self.augment else {}),
            **self.temporal.options(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "pool_a": self.pool_a.state_dict(),
            "pool_b": self.pool_b.state_dict(),
            "temporal_rng": self.temporal_rng.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        device = next(self.g_ab.parameters()).device
        if "pool_a" in state:
            self.pool_a.load_state_dict(state["pool_a"], device)
            self.pool_b.load_state_dict(state["pool_b"], device)
        if "temporal_rng" in state:  # checkpoints from before the temporal term have none
            self.temporal_rng.set_state(state["temporal_rng"])

    def check_data(self, dataset: Any) -> None:
        first = _i2i.first_items(dataset, "cyclegan")
        if first is None:
            return
        a, b = first
        _i2i.check_images(
            a, b, {"g_ab": (self.g_ab, "A", "B"), "g_ba": (self.g_ba, "B", "A")}, "cyclegan"
        )
        self._preview = (a, b)

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        g_ab, g_ba, d_a, d_b = nets["g_ab"], nets["g_ba"], nets["d_a"], nets["d_b"]
        real_a, real_b = _i2i.split_pair(batch, "cyclegan")
        d_a.requires_grad_(False)
        d_b.requires_grad_(False)
        with ctx.autocast():
            fake_b, fake_a = g_ab(real_a), g_ba(real_b)
            cycle = (g_ba(fake_b).float() - real_a.float()).abs().mean() + (
                g_ab(fake_a).float() - real_b.float()
            ).abs().mean()
            aug = self.augment
            gan = self.loss.generator_loss(d_b(aug(fake_b)).float()) + self.loss.generator_loss(
                d_a(aug(fake_a)).float()
            )
            g_loss = self.gan_weight * gan + self.cycle_weight * cycle
            metrics = {"gan_g": gan.detach(), "cycle": cycle.detach()}
            if self.identity_weight:
                identity = (g_ab(real_b).float() - real_b.float()).abs().mean() + (
                    g_ba(real_a).float() - real_a.float()
                ).abs().mean()
                g_loss = g_loss + self.identity_weight * self.cycle_weight * identity
                metrics["identity"] = identity.detach()
            if self.temporal.active(ctx.step):  # compound regularisation, both directions
                rng = self.temporal_rng
                temporal = self.temporal.loss(g_ab, real_a, fake_b, rng) + self.temporal.loss(
                    g_ba, real_b, fake_a, rng
                )
                g_loss = g_loss + self.temporal.weight * temporal
                metrics["temporal"] = temporal.detach()
            elif self.temporal:  # before temporal_start: logged as 0, the log keeps its columns
                metrics["temporal"] = gan.new_zeros(()).detach()
        ctx.optimize("generator", g_loss)

        d_a.requires_grad_(True)
        d_b.requires_grad_(True)
        old_b, old_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        if self.augment:
            real_b, old_b = self.augment(real_b, old_b)
            real_a, old_a = self.augment(real_a, old_a)
        with ctx.autocast():
            loss_db = self.d_scale * self.loss.discriminator_loss(
                d_b(real_b).float(), d_b(old_b).float()
            )
            loss_da = self.d_scale * self.loss.discriminator_loss(
                d_a(real_a).float(), d_a(old_a).float()
            )
        ctx.optimize("discriminator", loss_da + loss_db)
        metrics.update(loss_g=g_loss.detach(), loss_d_a=loss_da.detach(), loss_d_b=loss_db.detach())
        return metrics

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        if self._preview is None:
            raise TrainingSetupError("cyclegan: no preview images (check_data was not called)")
        g_ab, g_ba = networks["g_ab"], networks["g_ba"]
        device = next(g_ab.parameters()).device
        rows = _i2i.preview_rows(self._preview[0], count // 6)
        a, b = (t[:rows].to(device) for t in self._preview)
        fake_b, fake_a = g_ab(a), g_ba(b)
        images = torch.cat(
            [
                torch.stack([_i2i.rgb(x) for x in (a, fake_b, g_ba(fake_b))], 1).flatten(0, 1),
                torch.stack([_i2i.rgb(x) for x in (b, fake_a, g_ab(fake_a))], 1).flatten(0, 1),
            ]
        )
        return Preview(images, 3)
