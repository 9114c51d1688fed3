"""The ``gan_style`` objective: style transfer against a discriminator (CartoonGAN, AnimeGAN).

A generator (default ``transformer_net``) maps content photos to stylised
images; a discriminator (default ``patchgan``) learns to tell images of the
style domain (a folder of style images) from the generator's outputs, and the
generator learns to fool it while keeping the content:

* adversarial loss (default ``lsgan``, as AnimeGAN) against random crops of the
  style images;
* hard negatives, scored as *fake* by the discriminator (``edge_smooth``:
  style images whose edges are blurred, CartoonGAN's trick for crisp edges;
  ``grayscale``: greyscale style images, AnimeGAN's trick so colour alone does
  not pass for style);
* content loss on the frozen extractor's features (the perceptual loss's
  content term), optional Gram style loss against the style images' mean Gram
  (``style_weight``, default 0), a colour term (L1 between the output's and
  the content's 4×-downsampled colours, AnimeGAN's colour loss simplified to
  RGB) and total variation;
* a content-only warm-up (``warmup_steps``, CartoonGAN's initialisation phase):
  the generator first learns to reconstruct content, and the discriminator
  starts afterwards.

Config sections: ``[generator]``, ``[discriminator]``, ``[loss]`` (one
adversarial loss), ``[feature_extractor]`` (defaults as ``fast_style``),
``[data]`` (content images; default: the built-in ``content_photos``) and
``[objective]``: ``style_dir`` (default: crops of the built-in drawn style; a
folder is streamed: its crops are read in the trainer's DataLoader workers with
the content, see :mod:`gst_plugins.datasets.with_style`), ``style_cache``
(``"auto"``, true or false, as ``[data] cache``),
``adversarial_weight``, ``content_weight``, ``style_weight``, ``color_weight``,
``tv_weight``, ``warmup_steps``, ``edge_smooth``, ``grayscale``, ``seed``,
``preview_count`` and ``temporal_weight`` / ``temporal_shift`` / ``temporal_noise`` /
``temporal_samples`` / ``temporal_start`` / ``temporal_warp``
(default off: the compound temporal regularisation of ``fast_style``, for video; its
flows drawn from (``seed``, step)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.config import component, construct
from gst_core.config import options as config_options
from gst_core.diff_augment import DiffAugment
from gst_core.errors import TrainingSetupError
from gst_core.interfaces import (
    AdversarialLoss,
    Discriminator,
    FeatureExtractor,
    ImageGenerator,
    Objective,
    Preview,
    StepContext,
)
from gst_core.sample_keys import SampleKey, sample_generator
from gst_plugins._shared.temporal import TemporalTerm
from gst_plugins.datasets.style_images import StyleImages
from gst_plugins.datasets.with_style import WithStyle, pairable
from gst_plugins.objectives._feedforward import (
    check_rgb_content,
    content_preview,
    default_extractor,
    style_images,
    to_unit,
)
from gst_plugins.objectives._generator_kind import require_image_generator
from gst_plugins.objectives.fast_style import perceptual_loss
from gst_plugins.objectives.gan import split_batch

__all__ = ["GANStyleObjective", "edge_smoothed", "grayscale"]


def grayscale(images: Tensor) -> Tensor:
    """Luma (ITU-R 601) repeated over RGB; any range."""
    weights = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True).expand_as(images)


def edge_smoothed(images: Tensor, kernel: int = 5) -> Tensor:
    """CartoonGAN's edge-smoothed style images: blurred where the image has edges.

    Edges are where the luma gradient is in the top 10% of the image; the mask is
    dilated by ``kernel`` and the image replaced there by a box-blurred copy.
    """
    luma = grayscale(images)[:, :1]
    gy = F.pad(luma[..., 1:, :] - luma[..., :-1, :], (0, 0, 0, 1)).abs()
    gx = F.pad(luma[..., 1:] - luma[..., :-1], (0, 1)).abs()
    grad = (gx + gy).flatten(1)
    threshold = grad.quantile(0.9, dim=1).view(-1, 1, 1, 1)
    edges = ((gx + gy) > threshold).float()
    mask = F.max_pool2d(edges, kernel, stride=1, padding=kernel // 2)
    blurred = F.avg_pool2d(F.pad(images, (kernel // 2,) * 4, mode="replicate"), kernel, stride=1)
    return mask * blurred + (1 - mask) * images


class GANStyleObjective(Objective):
    """Train ``generator`` to map content images into the style domain of ``style_images``."""

    name = "gan_style"
    ema_networks = ("generator",)
    cli_options: ClassVar[dict[str, tuple]] = {
        "style": ("objective.style_dir", "a folder of style-domain images"),
        "adversarial-weight": ("objective.adversarial_weight", "adversarial loss weight", float),
        "content-weight": ("objective.content_weight", "content loss weight", float),
        "style-weight": ("objective.style_weight", "Gram style loss weight (default 0)", float),
    }
    default_data: ClassVar[dict[str, Any]] = {"name": "content_photos", "image_size": 128}

    def __init__(
        self,
        generator: ImageGenerator,
        discriminator: Discriminator,
        loss: AdversarialLoss,
        extractor: FeatureExtractor,
        style_images: StyleImages | Sequence[Tensor],
        *,
        adversarial_weight: float = 1.0,
        content_weight: float | None = None,
        style_weight: float = 0.0,
        color_weight: float = 0.0,
        tv_weight: float | None = None,
        warmup_steps: int = 0,
        edge_smooth: bool = True,
        grayscale: bool = False,
        seed: int = 0,
        preview_count: int = 4,
        augment: str | Sequence[str] | None = None,
        temporal_weight: float = 0.0,
        temporal_shift: float = 8.0,
        temporal_noise: float = 0.02,
        temporal_samples: int = 0,
        temporal_start: int = 0,
        temporal_warp: str = "bilinear",
    ) -> None:
        require_image_generator(generator, "gan_style", "transformer_net")
        if not isinstance(loss, AdversarialLoss):
            raise TrainingSetupError(
                "gan_style needs an adversarial loss (lsgan, hinge, ...), got "
                f"{type(loss).__name__}"
            )
        if not isinstance(style_images, StyleImages):
            style_images = StyleImages(images=list(style_images))
        if not len(style_images):
            raise TrainingSetupError("gan_style needs at least one style image")
        if not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise TrainingSetupError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
        self.generator, self.discriminator, self.adversarial = generator, discriminator, loss
        self.loss = perceptual_loss(
            extractor,
            content_layers=None,
            style_layers=None,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
        )
        # The mean Gram reads every style image once, one at a time (a streamed folder too).
        self.style_grams = self.loss.style_targets(style_images) if style_weight else {}
        self.styles = style_images
        self.crop_size: int | None = None  # the content size, set by check_data
        self.paired_styles = False  # batches carry their style crops (training_data)
        self.seed = seed
        self.adversarial_weight = float(adversarial_weight)
        self.color_weight = float(color_weight)
        self.warmup_steps = warmup_steps
        self.edge_smooth, self.grayscale = bool(edge_smooth), bool(grayscale)
        self.preview_count = preview_count
        self.preview_images: Tensor | None = None
        self._options: dict[str, Any] = {}
        self.augment = DiffAugment(augment)  # DiffAugment before every D call
        self.temporal = TemporalTerm.checked(
            "gan_style",
            temporal_weight,
            temporal_shift,
            temporal_noise,
            temporal_samples,
            start=temporal_start,
            warp=temporal_warp,
        )

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, source: str = "<config>"
    ) -> GANStyleObjective:
        generator, g_spec = component(config, "generator", {"name": "transformer_net"}, source)
        discriminator, d_spec = component(config, "discriminator", {"name": "patchgan"}, source)
        loss, _ = component(config, "loss", {"name": "lsgan"}, source)
        extractor, _ = component(config, "feature_extractor", default_extractor, source)
        options = config_options(config)
        style_dir, style_size = options.pop("style_dir", None), options.pop("style_size", 256)
        style_cache = options.pop("style_cache", "auto")
        styles = style_images(style_dir, style_size, cache=style_cache)
        objective = construct(
            cls, generator, discriminator, loss, extractor, styles, options=options, source=source
        )
        objective.network_specs = {
            "generator": {"kind": "generator", **g_spec},
            "discriminator": {"kind": "discriminator", **d_spec},
        }
        objective._options = {
            "style_dir": style_dir,
            "style_size": style_size,
            "style_cache": style_cache,
            **options,
        }
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def config(self) -> dict[str, Any]:
        return dict(self._options)

    def check_data(self, dataset: Any) -> None:
        images = check_rgb_content(dataset, "gan_style")
        # Known only for styles in memory; a streamed image shorter than the crops is scaled
        # up to cover them when met (StyleImages.crop), as adain does.
        small = self.styles.smallest_side()
        if small is not None and small < images.shape[-1]:
            raise TrainingSetupError(
                f"a style image is {small} px on its short side, smaller than the "
                f"{images.shape[-1]} px training crops; use larger style images or style_size"
            )
        self.crop_size = images.shape[-1]
        self.preview_images = content_preview(dataset, self.preview_count)

    def training_data(self, dataset: Any) -> Any:
        """A map-style dataset is paired with style crops, read in the same workers."""
        if self.crop_size is None or not pairable(dataset):
            return dataset
        self.paired_styles = True
        return WithStyle(dataset, self.styles, self.crop_size)

    def style_batch(self, count: int, size: int, step: int) -> Tensor:
        """``count`` crops in ``[-1, 1]`` for data that is not paired with them (an iterable of
        batches): drawn from (seed, step, slot), so a resume draws the same ones."""
        keys = [SampleKey(i, step, self.seed) for i in range(count)]
        crops = [self.styles.crop(size, sample_generator(k, "style")) for k in keys]
        return torch.stack(crops) * 2 - 1

    def split_styles(self, batch: Any, ctx: StepContext) -> tuple[Any, Tensor]:
        """``(content batch, style crops in [-1, 1] on the device)``."""
        if self.paired_styles:
            content, style = batch
            return content, style.to(ctx.device) * 2 - 1
        images, _ = split_batch(batch)
        return batch, self.style_batch(images.shape[0], images.shape[-1], ctx.step).to(ctx.device)

    def _negatives(self, style: Tensor) -> list[Tensor]:
        out = []
        if self.edge_smooth:
            out.append(edge_smoothed(style))
        if self.grayscale:
            out.append(grayscale(style))
        return out

    def _to_device(self, device: torch.device) -> None:
        if self.style_grams and next(iter(self.style_grams.values())).device != device:
            self.style_grams = {k: v.to(device) for k, v in self.style_grams.items()}
        self.loss.to(device)

    def content_term(self, image01: Tensor, targets: Mapping[str, Tensor]) -> Tensor:
        """The weighted content loss alone; the extractor stops at the deepest content layer."""
        loss, left = self.loss.content_loss, set(self.loss.content_loss.layers)
        total = image01.new_zeros(())
        for name, features in self.loss.extractor.iter_taps(image01):
            if name in left:
                total = total + loss.layer_term(name, features, targets[name])
                left.discard(name)
            if not left:
                break
        return total * self.loss.loss_weights["content_weight"]

    def perceptual_terms(self, image01: Tensor, targets: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Weighted content, style (when weighted) and TV terms, with their ``total``."""
        if self.style_grams:
            return self.loss(image01, targets, self.style_grams)
        terms = {"content": self.content_term(image01, targets)}
        if self.loss.loss_weights["tv_weight"]:
            terms["tv"] = self.loss.tv_loss(image01) * self.loss.loss_weights["tv_weight"]
        terms["total"] = sum(terms.values())
        return terms

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        self._to_device(ctx.device)
        g, d = nets["generator"], nets["discriminator"]
        batch, style = self.split_styles(batch, ctx)
        images, _ = split_batch(batch)
        content = to_unit(images)
        targets = self.loss.content_targets(content)
        warmup = ctx.step < self.warmup_steps
        metrics: dict[str, Tensor] = {}
        with ctx.autocast():
            fake = g(images)
        if not warmup:
            fakes = torch.cat([fake.detach(), *self._negatives(style)])
            if self.augment:  # one draw: fakes[k·n + i] get style[i]'s transform
                style, fakes = self.augment(style, fakes)
            with ctx.autocast():
                d_loss = self.adversarial.discriminator_loss(d(style).float(), d(fakes).float())
            ctx.optimize("discriminator", d_loss)
            metrics["loss_d"] = d_loss.detach()
        fake01 = to_unit(fake)
        if warmup:
            # Content only: the generator learns to reconstruct before it is judged.
            g_loss = self.content_term(fake01, targets)
            metrics["loss_content"] = g_loss.detach()
        else:
            terms = self.perceptual_terms(fake01, targets)
            d.requires_grad_(False)
            with ctx.autocast():
                adv = self.adversarial.generator_loss(d(self.augment(fake)).float())
            d.requires_grad_(True)
            g_loss = terms["total"] + self.adversarial_weight * adv
            metrics.update({f"loss_{k}": v.detach() for k, v in terms.items() if k != "total"})
            metrics["loss_adv"] = adv.detach()
            if self.color_weight:
                color = F.l1_loss(F.avg_pool2d(fake01, 4), F.avg_pool2d(content, 4))
                g_loss = g_loss + self.color_weight * color
                metrics["loss_color"] = color.detach()
        if self.temporal.active(ctx.step):  # compound regularisation (Wang et al. 2020)
            with ctx.autocast():
                # flows and noise from (seed, step), as the style crops: a resume draws the same
                rng = sample_generator(SampleKey(0, ctx.step, self.seed), "temporal")
                temporal = self.temporal.loss(g, images, fake, rng)
            g_loss = g_loss + self.temporal.weight * temporal
            metrics["loss_temporal"] = temporal.detach()
        elif self.temporal:  # before temporal_start: logged as 0, the log keeps its columns
            metrics["loss_temporal"] = g_loss.new_zeros(()).detach()
        ctx.optimize("generator", g_loss)
        metrics["loss_g"] = g_loss.detach()
        return metrics

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        """Content images (top row) above their stylised versions."""
        generator = networks["generator"]
        device = next(generator.parameters()).device
        content = self.preview_images
        if content is None:  # a fixed crop of a style image, from a generator of its own
            size = min(self.styles.image(0).shape[-2:])
            content = self.styles.crop(size, torch.Generator().manual_seed(0))[None] * 2 - 1
        content = content[:count].to(device)
        return Preview(torch.cat([content, generator(content).float().clamp(-1, 1)]), len(content))
