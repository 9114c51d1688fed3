"""The ``fast_style`` objective: a feed-forward style network trained with perceptual losses.

Johnson et al. 2016, as pytorch/examples ``fast_neural_style`` trains it: a
:class:`~gst_plugins.generators.transformer_net.TransformerNet` maps a content
image to a stylised one, scored by a frozen feature extractor with content
loss at ``relu2_2``, Gram style loss at ``relu1_2, relu2_2, relu3_3, relu4_3``
of VGG16 (one style's Grams broadcast over the batch) and total variation.

Config sections: ``[generator]`` (default ``transformer_net``),
``[feature_extractor]`` (default: VGG16 when weights are configured, else the
offline ``random_multiscale`` with a notice), ``[data]`` (content images;
default in the CLI: the built-in ``content_photos``) and ``[objective]``:

* ``style``: the style image (default: the built-in drawn style);
  ``style_size``: its longer side in pixels (default 256);
* ``content_weight``, ``style_weight``, ``tv_weight``; ``content_layers``,
  ``style_layers``; ``preview_count``;
* ``temporal_weight`` (default 0: off): compound regularisation for video (Wang et al.,
  AAAI 2020): ``weight · mean((G(W(x) + Δ) − W(G(x)))²)`` on [-1, 1] images for a random
  smooth flow ``W`` of up to ``temporal_shift`` pixels (8) and noise ``Δ`` of std
  ``temporal_noise`` (0.02), on the first ``temporal_samples`` items of each batch (0:
  all), from step ``temporal_start`` (0: the first; pixels moved in from outside the
  frame are left out), warped ``temporal_warp`` = "bilinear" or "nearest" (whole
  pixels, as the reference code); see ``gst_plugins/_shared/temporal.py``. The flows and
  noise come from the objective's generator seeded by ``seed`` (0), checkpointed.

Weights. The reference uses content 1e5 and style 1e10 with Gram
``G = F Fᵀ / (C·H·W)`` and ``mse_loss`` (a mean), on VGG16 features of images
scaled to [0, 1] and ImageNet-normalised. gst's Gram and style/content losses
use exactly the same normalisation (``G = F Fᵀ/(C·H·W)``, ``mean((G − T)²)``,
``mean((F − P)²)``) and the same [0, 1] + ImageNet input, so the reference's
numbers carry over unchanged: 1e5 / 1e10, TV 0 (the example has no TV term).
With the offline ``random_multiscale`` extractor the extractor's own
suggestion is used instead (content 1, style 1e6, TV 10), which is what
Gatys uses with it too.

The extractor is held by the objective and frozen; it is not one of
:meth:`networks`, so checkpoints hold only the generator (plus the
extractor's spec in the config, so a resume uses the same one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gst_core.config import component, construct
from gst_core.config import options as config_options
from gst_core.errors import TrainingSetupError
from gst_core.interfaces import FeatureExtractor, ImageGenerator, Objective, Preview, StepContext
from gst_core.perceptual import PerceptualLoss
from gst_plugins._shared.temporal import TemporalTerm
from gst_plugins.objectives._feedforward import (
    content_preview,
    default_extractor,
    load_style_images,
    style_images,
    to_unit,
)
from gst_plugins.objectives._generator_kind import require_image_generator
from gst_plugins.objectives.gan import split_batch

__all__ = ["REFERENCE_VGG16", "FastStyleObjective"]

#: pytorch/examples fast_neural_style's layers and weights (VGG16).
REFERENCE_VGG16: dict[str, Any] = {
    "content_layers": ("relu2_2",),
    "style_layers": ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
    "content_weight": 1e5,
    "style_weight": 1e10,
    "tv_weight": 0.0,
}


def perceptual_loss(
    extractor: FeatureExtractor,
    *,
    content_layers: Sequence[str] | None,
    style_layers: Sequence[str] | None,
    content_weight: float | None,
    style_weight: float | None,
    tv_weight: float | None,
) -> PerceptualLoss:
    """A perceptual loss with the reference's defaults on VGG16, the extractor's elsewhere."""
    from gst_core.kinds import losses

    reference = REFERENCE_VGG16 if "relu4_3" in extractor.available_layers else {}

    def pick(name: str, value: Any) -> Any:
        return value if value is not None else reference.get(name)

    return PerceptualLoss(
        extractor,
        losses.build("content", layers=tuple(pick("content_layers", content_layers) or ())),
        losses.build("style", layers=tuple(pick("style_layers", style_layers) or ())),
        losses.build("total_variation"),
        content_weight=pick("content_weight", content_weight),
        style_weight=pick("style_weight", style_weight),
        tv_weight=pick("tv_weight", tv_weight),
    )


class FastStyleObjective(Objective):
    """Train ``generator`` so that ``generator(content)`` has ``style``'s Gram statistics."""

    name = "fast_style"
    #: Flags `gst train fast_style` accepts: flag → (config key, help[, type]).
    cli_options: ClassVar[dict[str, tuple]] = {
        "style": ("objective.style", "the style image (default: the built-in drawn style)"),
        "style-size": ("objective.style_size", "the style image's longer side in pixels", int),
        "content-weight": (
            "objective.content_weight",
            "content loss weight (VGG16 default 1e5)",
            float,
        ),
        "style-weight": ("objective.style_weight", "style loss weight (VGG16 default 1e10)", float),
        "tv-weight": ("objective.tv_weight", "total-variation weight (default 0)", float),
    }

    #: The data `gst train fast_style` uses when given none: the built-in content set.
    default_data: ClassVar[dict[str, Any]] = {"name": "content_photos", "image_size": 128}
    #: The reference's optimiser (Adam, lr 1e-3) and batch size 4; `[train]` overrides them.
    default_train: ClassVar[dict[str, Any]] = {
        "optimizer": {"name": "Adam", "lr": 1e-3},
        "batch_size": 4,
        "steps": 2000,
    }

    def __init__(
        self,
        generator: ImageGenerator,
        extractor: FeatureExtractor,
        style: Tensor | None = None,
        *,
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float | None = None,
        content_layers: Sequence[str] | None = None,
        style_layers: Sequence[str] | None = None,
        preview_count: int = 4,
        temporal_weight: float = 0.0,
        temporal_shift: float = 8.0,
        temporal_noise: float = 0.02,
        temporal_samples: int = 0,
        temporal_start: int = 0,
        temporal_warp: str = "bilinear",
        seed: int = 0,
    ) -> None:
        require_image_generator(generator, "fast_style", "transformer_net")
        self.generator = generator
        self.loss = perceptual_loss(
            extractor,
            content_layers=content_layers,
            style_layers=style_layers,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
        )
        style = load_style_images(None, 256)[0] if style is None else style
        self.style_grams = self.loss.style_targets(style)
        self.preview_count = preview_count
        self.preview_images: Tensor | None = None
        self.temporal = TemporalTerm.checked(
            "fast_style",
            temporal_weight,
            temporal_shift,
            temporal_noise,
            temporal_samples,
            start=temporal_start,
            warp=temporal_warp,
        )
        self.rng = torch.Generator().manual_seed(seed)  # the temporal term's flows and noise
        self._options: dict[str, Any] = {}

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, source: str = "<config>"
    ) -> FastStyleObjective:
        generator, g_spec = component(config, "generator", {"name": "transformer_net"}, source)
        extractor, x_spec = component(config, "feature_extractor", default_extractor, source)
        options = config_options(config)
        style_path, style_size = options.pop("style", None), options.pop("style_size", 256)
        # A folder is listed, not decoded: one of many is refused before any is read.
        styles = style_images(style_path, style_size, cache=False)
        if len(styles) != 1:
            raise TrainingSetupError(
                f"{source}: [objective] style must be one image for fast_style, got a folder "
                f"of {len(styles)}; pick one (gan_style learns from a folder)"
            )
        style = next(iter(styles))
        objective = construct(cls, generator, extractor, style, options=options, source=source)
        objective.network_specs = {"generator": {"kind": "generator", **g_spec}}
        objective._options = {"style": style_path, "style_size": style_size, **options}
        if "feature_extractor" not in config:  # else the config (in the checkpoint) names it
            objective._options["feature_extractor"] = x_spec
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def config(self) -> dict[str, Any]:
        return {**self._options, "loss_weights": dict(self.loss.loss_weights)}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "rng" in state:  # checkpoints from before the temporal term have none
            self.rng.set_state(state["rng"])

    def check_data(self, dataset: Any) -> None:
        try:
            first = dataset[0]
        except IndexError:
            raise TrainingSetupError(
                "the content data is empty; give a folder with at least one image"
            ) from None
        images, _ = split_batch(first)
        if images.dim() != 3 or images.shape[0] != 3:
            raise TrainingSetupError(
                f"fast_style needs RGB content images (3, H, W); the data gives "
                f"{tuple(images.shape)}: set channels = 3 in [data]"
            )
        self.preview_images = content_preview(dataset, self.preview_count)

    def _to_device(self, device: torch.device) -> None:
        if self.style_grams and next(iter(self.style_grams.values())).device != device:
            self.loss.to(device)
            self.style_grams = {k: v.to(device) for k, v in self.style_grams.items()}

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        self._to_device(ctx.device)
        images, _ = split_batch(batch)
        content = to_unit(images)
        targets = self.loss.content_targets(content)
        with ctx.autocast():
            stylised = nets["generator"](images)
        terms = self.loss(to_unit(stylised), targets, self.style_grams)
        if self.temporal.active(ctx.step):  # compound regularisation (Wang et al. 2020)
            with ctx.autocast():
                temporal = self.temporal.loss(nets["generator"], images, stylised, self.rng)
            terms["temporal"] = temporal
            terms["total"] = terms["total"] + self.temporal.weight * temporal
        elif self.temporal:  # before temporal_start: logged as 0, so the log keeps its columns
            terms["temporal"] = stylised.new_zeros(())
        ctx.optimize("generator", terms["total"])
        return {f"loss_{k}": v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        """Content images (top row) above their stylised versions."""
        generator = networks["generator"]
        device = next(generator.parameters()).device
        content = self.preview_images
        if content is None:
            from gst_core.images import pil_to_tensor
            from gst_plugins.datasets.style_samples import sample_content

            content = pil_to_tensor(sample_content(128, 128)) * 2 - 1
        content = content[:count].to(device)
        return Preview(torch.cat([content, generator(content).float().clamp(-1, 1)]), len(content))
