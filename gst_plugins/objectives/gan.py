"""The ``gan`` objective: a latent generator against a discriminator.

Config sections: ``[generator]``, ``[discriminator]``, ``[loss]`` (one
adversarial loss, or ``[loss.<label>]`` tables: one adversarial loss plus
penalties) and ``[objective]`` (``n_critic``, ``preview_seed``). A section left
out is DCGAN's: ``dcgan`` generator and discriminator at 32² (the generator's
``image_size`` when it sets one), ``non_saturating`` loss; without ``[data]``
``gst train gan`` uses the built-in ``shapes``.

Each step makes ``n_critic`` discriminator updates (each on a fresh real
batch, as WGAN does) and then one generator update. The fakes of the last
critic update are reused for the generator update, as PyTorch's DCGAN
example does, which saves one generator forward per step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gst_core.config import build_components, single, spec_of
from gst_core.errors import TrainingSetupError
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorPenalty,
    ImageGenerator,
    Objective,
    Preview,
    StepContext,
)

__all__ = ["GANObjective", "split_batch"]

DEFAULT_SIZE = 32  # the built-in shapes' size, which the default networks are built for


def _with_default_networks(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with DCGAN's sections where it has none (so `gst train gan` runs bare)."""
    config = dict(config)
    generator = config.setdefault("generator", {"name": "dcgan", "image_size": DEFAULT_SIZE})
    size = generator.get("image_size", 64) if isinstance(generator, Mapping) else DEFAULT_SIZE
    config.setdefault("discriminator", {"name": "dcgan", "image_size": size})
    config.setdefault("loss", {"name": "non_saturating"})
    return config


def split_batch(batch: Any) -> tuple[Tensor, Tensor | None]:
    """``images`` / ``(images, labels)`` / ``{"image": ..., "label": ...}`` → ``(images, labels)``.

    Labels of ``-1`` (an unlabelled dataset) count as no labels.
    """
    if isinstance(batch, Tensor):
        return batch, None
    if isinstance(batch, Mapping):
        images, labels = batch["image"], batch.get("label")
    elif isinstance(batch, Sequence) and len(batch) == 2:
        images, labels = batch
    else:
        raise TrainingSetupError(
            "a GAN batch must be images, (images, labels) or {'image': ..., 'label': ...}; "
            f"got {type(batch).__name__}"
        )
    if isinstance(labels, int):  # a single item, as in dataset[0]
        labels = None if labels < 0 else torch.tensor(labels)
    elif labels is not None and labels.numel() and labels.device.type == "cpu" and labels[0] < 0:
        labels = None
    return images, labels


class GANObjective(Objective):
    """Train ``generator`` against ``discriminator`` with an adversarial loss and penalties.

    ``penalties`` (R1, gradient penalty, ...) are added to the discriminator's
    loss. A class-conditional generator gets the labels of the real batch, and
    a conditional discriminator sees them for real and fake images alike.
    """

    name = "gan"
    ema_networks = ("generator",)

    def __init__(
        self,
        generator: ImageGenerator,
        discriminator: Discriminator,
        loss: AdversarialLoss,
        penalties: Sequence[DiscriminatorPenalty] | Mapping[str, DiscriminatorPenalty] = (),
        *,
        n_critic: int = 1,
        preview_seed: int = 1234,
    ) -> None:
        if getattr(generator, "input_kind", "latent") != "latent":
            raise TrainingSetupError(
                f"the GAN objective needs a latent generator; {type(generator).__name__} takes "
                "images (input_kind='image'): train it with an image-to-image objective"
            )
        if not isinstance(loss, AdversarialLoss):
            raise TrainingSetupError(
                f"the GAN objective needs an adversarial loss (non_saturating, hinge, ...), got "
                f"{type(loss).__name__}"
            )
        if isinstance(penalties, Mapping):
            penalties = list(penalties.values())
        for p in penalties:
            if not isinstance(p, DiscriminatorPenalty):
                raise TrainingSetupError(
                    f"{type(p).__name__} is not a discriminator penalty (r1, gradient_penalty)"
                )
        d_classes = getattr(discriminator, "num_classes", 0)
        g_classes = getattr(generator, "num_classes", 0)
        if d_classes and d_classes != g_classes:
            raise TrainingSetupError(
                f"the discriminator is conditional on {d_classes} classes but the generator on "
                f"{g_classes}; give both the same num_classes"
            )
        g_shape, d_shape = tuple(generator.image_shape), tuple(discriminator.image_shape)
        if all(d_shape) and g_shape != d_shape:
            raise TrainingSetupError(
                f"the generator makes images of shape {g_shape} but the discriminator expects "
                f"{d_shape}; set the same image_size and channels on both"
            )
        if not isinstance(n_critic, int) or n_critic < 1:
            raise TrainingSetupError(f"n_critic must be an integer >= 1, got {n_critic!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.penalties = list(penalties)
        self.n_critic = n_critic
        self.preview_seed = preview_seed

    #: Without [data] or a config: the built-in shapes at the default networks' size.
    default_data: ClassVar[dict[str, Any]] = {"name": "shapes", "image_size": DEFAULT_SIZE}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str = "<config>") -> GANObjective:
        """From ``[generator]``, ``[discriminator]``, ``[loss]`` and ``[objective]``."""
        config = _with_default_networks(config)
        built = build_components(config, source=source)
        generator = single(built, "generator", source=source, example='name = "dcgan"')
        discriminator = single(built, "discriminator", source=source, example='name = "dcgan"')
        if "loss" not in built:
            single(built, "loss", source=source, example='name = "non_saturating"')
        named = built["loss"]
        adversarial = [label for label, m in named.items() if isinstance(m, AdversarialLoss)]
        others = [
            label
            for label, m in named.items()
            if not isinstance(m, AdversarialLoss | DiscriminatorPenalty)
        ]
        if len(adversarial) != 1 or others:
            raise TrainingSetupError(
                f"{source}: [loss] must name exactly one adversarial loss (non_saturating, "
                "minimax, lsgan, hinge, wasserstein) plus any penalties (r1, gradient_penalty); "
                "got " + ", ".join(f"{label} = {type(m).__name__}" for label, m in named.items())
            )
        penalties = {k: m for k, m in named.items() if isinstance(m, DiscriminatorPenalty)}
        options = {k: v for k, v in dict(config.get("objective", {})).items() if k != "name"}
        try:
            objective = cls(generator, discriminator, named[adversarial[0]], penalties, **options)
        except TypeError as exc:
            raise TrainingSetupError(
                f"{source}: [objective]: {exc} (the gan objective takes n_critic, preview_seed)"
            ) from exc
        objective.network_specs = {
            "generator": {"kind": "generator", **spec_of(config, "generator")},
            "discriminator": {"kind": "discriminator", **spec_of(config, "discriminator")},
        }
        return objective

    @property
    def num_classes(self) -> int:
        return int(getattr(self.generator, "num_classes", 0))

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def config(self) -> dict[str, Any]:
        return {"n_critic": self.n_critic}

    def check_data(self, dataset: Any) -> None:
        try:
            first = dataset[0]
        except (TypeError, NotImplementedError):
            return  # an iterable dataset: checked on the first batch instead
        except IndexError:
            raise TrainingSetupError(
                "the training data is empty; give the dataset at least one image"
            ) from None
        images, label = split_batch(first)
        if tuple(images.shape) != tuple(self.generator.image_shape):
            raise TrainingSetupError(
                f"the data's images have shape {tuple(images.shape)} but the generator makes "
                f"{tuple(self.generator.image_shape)}; set the data's image_size/channels to "
                "match the generator's"
            )
        data_classes = int(getattr(dataset, "num_classes", 0) or 0)
        if self.num_classes and label is None:
            raise TrainingSetupError(
                f"the generator is class-conditional ({self.num_classes} classes) but the data "
                "has no labels; use labelled data (class subfolders) or an unconditional generator"
            )
        if self.num_classes and data_classes and data_classes != self.num_classes:
            raise TrainingSetupError(
                f"the data has {data_classes} classes but the generator was built for "
                f"{self.num_classes}; set num_classes = {data_classes} on both networks"
            )

    def _labels_for(self, labels: Tensor | None) -> Tensor | None:
        if not self.num_classes:
            return None
        if labels is None:
            raise TrainingSetupError(
                "the generator is class-conditional but the batch has no labels"
            )
        return labels

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        g, d = nets["generator"], nets["discriminator"]
        d.requires_grad_(True)
        for i in range(self.n_critic):
            real, labels = split_batch(batch if i == 0 else ctx.next_batch())
            labels = self._labels_for(labels)
            d_labels = labels if self.discriminator.num_classes else None
            z = self.generator.sample_latent(real.shape[0])
            with ctx.autocast():
                fake = g(z, labels)
                real_scores = d(real, d_labels)
                fake_scores = d(fake.detach(), d_labels)
                d_loss = self.loss.discriminator_loss(real_scores.float(), fake_scores.float())
            metrics = {"loss_d": d_loss.detach()}
            if self.penalties:
                # Penalties differentiate through D twice: kept in float32.
                penalty = sum(
                    p(d, real.float(), fake.detach().float(), d_labels) for p in self.penalties
                )
                metrics["penalty"] = penalty.detach()
                d_loss = d_loss + penalty
            ctx.optimize("discriminator", d_loss)

        # D's weights need no gradients in the generator's update: skipping them saves a
        # backward pass through D's parameters.
        d.requires_grad_(False)
        with ctx.autocast():
            g_loss = self.loss.generator_loss(d(fake, d_labels).float())
        ctx.optimize("generator", g_loss)
        d.requires_grad_(True)
        metrics["loss_g"] = g_loss.detach()
        metrics["d_real"] = real_scores.detach().float().mean()
        metrics["d_fake"] = fake_scores.detach().float().mean()
        return metrics

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        generator = networks["generator"]
        device = next(generator.parameters()).device
        rng = torch.Generator(device=device).manual_seed(self.preview_seed)
        if self.num_classes:
            # One row per class (as many rows as fit), so a person can check each class.
            per_row = max(1, math.ceil(count / self.num_classes))
            labels = (torch.arange(count, device=device) // per_row) % self.num_classes
        else:
            per_row = max(1, math.ceil(math.sqrt(count)))
            labels = None
        z = torch.randn(count, self.generator.latent_dim, generator=rng, device=device)
        return Preview(generator(z, labels), per_row)
