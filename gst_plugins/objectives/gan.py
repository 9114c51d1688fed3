"""The ``gan`` objective: a latent generator against a discriminator.

Config sections: ``[generator]``, ``[discriminator]``, ``[loss]`` (one
adversarial loss, or ``[loss.<label>]`` tables: one adversarial loss plus
penalties) and ``[objective]`` (``n_critic``, ``preview_seed``,
``instance_noise``, ``instance_noise_steps``). A section left
out is DCGAN's: ``dcgan`` generator and discriminator at 32² (the generator's
``image_size`` when it sets one), ``non_saturating`` loss; without ``[data]``
``gst train gan`` uses the built-in ``shapes``.

Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise of
standard deviation ``instance_noise`` is added to every image the discriminator sees,
real and fake, in both updates, and annealed linearly to zero over
``instance_noise_steps``. Early on it makes the real and fake distributions overlap, so
the discriminator cannot separate them perfectly and its gradients stay informative,
which counters the collapse of a generator chasing a sharp discriminator.

Each step makes ``n_critic`` discriminator updates (each on a fresh real
batch, as WGAN does) and then one generator update. The fakes of the last
critic update are reused for the generator update, as PyTorch's DCGAN
example does, which saves one generator forward per step.
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gst_core.config import component, components, construct, options
from gst_core.diff_augment import DiffAugment
from gst_core.errors import SpecError, TrainingSetupError
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    DiscriminatorPenalty,
    ImageDataset,
    ImageGenerator,
    Objective,
    Preview,
    StepContext,
)
from gst_core.per_sample import per_sample

__all__ = ["GANObjective", "split_batch"]

DEFAULT_SIZE = 32  # the built-in shapes' size, which the default networks are built for


def _with_default_networks(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """``config`` with DCGAN's sections where it has none (so `gst train gan` runs bare).

    A view, not a copy: the trainer hands a config that records which sections are read
    (the trainer's section tracking), and copying it would count every section as read."""
    defaults: dict[str, Any] = {}
    if "generator" not in config:
        defaults["generator"] = {"name": "dcgan", "image_size": DEFAULT_SIZE}
    generator = config["generator"] if "generator" in config else defaults["generator"]
    size = generator.get("image_size", 64) if isinstance(generator, Mapping) else DEFAULT_SIZE
    if "discriminator" not in config:
        defaults["discriminator"] = {"name": "dcgan", "image_size": size}
    if "loss" not in config:
        defaults["loss"] = {"name": "non_saturating"}
    return ChainMap(config, defaults)


def split_batch(batch: Any) -> tuple[Tensor, Tensor | None]:
    """``images`` / ``(images, labels)`` / ``{"image": ..., "label": ...}`` → ``(images, labels)``.

    Labels of ``-1`` (an unlabelled dataset) count as no labels.
    """
    if isinstance(batch, Tensor):
        return batch, None
    if isinstance(batch, Mapping):
        if "image" not in batch:
            pairs = {"A", "B"} <= set(batch)
            raise TrainingSetupError(
                f"a GAN trains on images ({{'image': ...}} items), but this data gives items "
                f"with {sorted(map(str, batch))}"
                + (
                    ": image-to-image data (A and B). Train pix2pix (paired) or cyclegan "
                    '(unpaired) on it, or give the GAN a folder of images ([data] name = "folder")'
                    if pairs
                    else '; give the GAN a folder of images ([data] name = "folder")'
                )
            )
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


def _adversarial_and_penalties(
    named: Mapping[str, nn.Module], source: str
) -> tuple[AdversarialLoss, dict[str, DiscriminatorPenalty]]:
    """The one adversarial loss and the penalties among a config's ``[loss.<label>]`` tables."""
    if not named:
        raise SpecError(f'{source}: no [loss] section; add one, e.g.\n  [loss]\n  name = "hinge"')
    adversarial = [m for m in named.values() if isinstance(m, AdversarialLoss)]
    allowed = (AdversarialLoss, DiscriminatorPenalty)
    if len(adversarial) != 1 or not all(isinstance(m, allowed) for m in named.values()):
        raise TrainingSetupError(
            f"{source}: [loss] must name exactly one adversarial loss (non_saturating, "
            "minimax, lsgan, hinge, wasserstein) plus any penalties (r1, gradient_penalty); "
            "got " + ", ".join(f"{label} = {type(m).__name__}" for label, m in named.items())
        )
    penalties = {k: m for k, m in named.items() if isinstance(m, DiscriminatorPenalty)}
    return adversarial[0], penalties


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
        instance_noise: float = 0.0,
        instance_noise_steps: int = 1000,
        augment: str | Sequence[str] | None = None,
    ) -> None:
        if generator.input_kind != "latent":
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
        d_classes = discriminator.num_classes
        g_classes = generator.num_classes
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
        if isinstance(instance_noise, bool) or not isinstance(instance_noise, int | float):
            raise TrainingSetupError(f"instance_noise must be a number, got {instance_noise!r}")
        if instance_noise < 0:
            raise TrainingSetupError(f"instance_noise must be >= 0, got {instance_noise}")
        if not isinstance(instance_noise_steps, int) or instance_noise_steps < 1:
            raise TrainingSetupError(
                f"instance_noise_steps must be an integer >= 1, got {instance_noise_steps!r}"
            )
        self.n_critic = n_critic
        self.preview_seed = preview_seed
        self.instance_noise = float(instance_noise)
        self.instance_noise_steps = instance_noise_steps
        # DiffAugment before every D call, real and fake alike (gst_core.diff_augment).
        self.augment = DiffAugment(augment)

    #: Without [data] or a config: the built-in shapes at the default networks' size.
    default_data: ClassVar[dict[str, Any]] = {"name": "shapes", "image_size": DEFAULT_SIZE}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str = "<config>") -> GANObjective:
        """From ``[generator]``, ``[discriminator]``, ``[loss]`` and ``[objective]``."""
        config = _with_default_networks(config)
        generator, g_spec = component(config, "generator", None, source)
        discriminator, d_spec = component(config, "discriminator", None, source)
        loss, penalties = _adversarial_and_penalties(components(config, "loss", source), source)
        objective = construct(
            cls, generator, discriminator, loss, penalties, options=options(config), source=source
        )
        objective.network_specs = {
            "generator": {"kind": "generator", **g_spec},
            "discriminator": {"kind": "discriminator", **d_spec},
        }
        return objective

    @property
    def num_classes(self) -> int:
        return int(self.generator.num_classes)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"n_critic": self.n_critic}
        if self.augment:
            config["augment"] = self.augment.policy
        if self.instance_noise:  # only when on, so older checkpoints resume without a diff
            config.update(
                instance_noise=self.instance_noise, instance_noise_steps=self.instance_noise_steps
            )
        return config

    def noise_std(self, step: int) -> float:
        """The instance noise's standard deviation at ``step`` (linear from its start to 0)."""
        return self.instance_noise * max(0.0, 1.0 - step / self.instance_noise_steps)

    def _noisy(self, images: Tensor, std: float) -> Tensor:
        if not std:
            return images
        return images + std * per_sample(
            images.shape[0], lambda n: torch.randn(n, *images.shape[1:], device=images.device)
        )

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
        data_classes = int(getattr(dataset, "num_classes", ImageDataset.num_classes) or 0)
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
        std = self.noise_std(ctx.step)
        for i in range(self.n_critic):
            real, labels = split_batch(batch if i == 0 else ctx.next_batch())
            labels = self._labels_for(labels)
            d_labels = labels if self.discriminator.num_classes else None
            z = self.generator.sample_latent(real.shape[0])
            with ctx.autocast():
                fake = g(z, labels)
            real_in, fake_in = (real, fake.detach())
            if self.augment:
                real_in, fake_in = self.augment(real_in, fake_in)
            real_in, fake_in = self._noisy(real_in, std), self._noisy(fake_in, std)
            with ctx.autocast():
                real_scores = d(real_in, d_labels)
                fake_scores = d(fake_in, d_labels)
                d_loss = self.loss.discriminator_loss(real_scores.float(), fake_scores.float())
            metrics = {"loss_d": d_loss.detach()}
            if self.penalties:
                # Penalties differentiate through D twice: kept in float32.
                penalty = sum(
                    p(d, real_in.float(), fake_in.float(), d_labels) for p in self.penalties
                )
                metrics["penalty"] = penalty.detach()
                d_loss = d_loss + penalty
            ctx.optimize("discriminator", d_loss)

        # D's weights need no gradients in the generator's update: skipping them saves a
        # backward pass through D's parameters.
        d.requires_grad_(False)
        with ctx.autocast():
            g_loss = self.loss.generator_loss(
                d(self._noisy(self.augment(fake), std), d_labels).float()
            )
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
