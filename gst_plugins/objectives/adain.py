"""The ``adain`` objective: arbitrary style transfer with adaptive instance normalisation.

Huang & Belongie, ICCV 2017, trained as naoto0804/pytorch-AdaIN's ``train.py``
does: a frozen encoder (VGG19 up to ``relu4_1``) encodes a content and a style
image; AdaIN gives the content features the style features' channel means and
standard deviations (the target ``t``); the trained decoder maps ``t`` back to
an image ``g``, and

* content loss ``mse(f(g)_relu4_1, t)`` (on the AdaIN target, not the content's
  features);
* style loss ``Σ_l mse(μ(f(g)_l), μ(f(s)_l)) + mse(σ(f(g)_l), σ(f(s)_l))`` over
  ``relu1_1, relu2_1, relu3_1, relu4_1``;
* total ``content_weight · content + style_weight · style`` (1 and 10, the paper's).

Config sections: ``[feature_extractor]`` (the encoder: any registered extractor
with the taps ``layers`` names; default VGG19 when its weights can be found,
else the offline encoder below), ``[generator]`` (default ``adain_decoder``
sized to the encoder), ``[data]`` (content; default the built-in
``content_photos``) and ``[objective]``: ``style_dir`` (a folder of style
images, streamed with the content in the trainer's DataLoader workers; default
the built-in ``drawn_styles``), ``style_size`` (longer side the styles are
loaded at, 160), ``style_cache`` (as ``[data] cache``), ``layers``,
``content_weight``, ``style_weight``,
``seed`` (of the style crops of data that is not paired with them), ``preview_count``,
and ``temporal_weight`` / ``temporal_shift`` / ``temporal_noise`` /
``temporal_samples`` / ``temporal_start`` / ``temporal_warp`` (default off: the compound
temporal regularisation of ``fast_style``, for video, on the whole stylisation
``decoder(AdaIN(encoder(x), style))`` with each sample's style held fixed; images on
[-1, 1] as for the other objectives; flows drawn from (seed, step)).

Offline encoder: no VGG weights can be downloaded, so without them the encoder
is ``vgg19`` with seeded random weights at a quarter of the width
(``OFFLINE_ENCODER``): the same layout, the same taps, a fixed deterministic
feature space, 16× cheaper on a CPU. It measures style as means and stds of
random features, which transfers colour and texture, not painting semantics.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.config import component, construct
from gst_core.config import options as config_options
from gst_core.errors import TrainingSetupError
from gst_core.feature_stats import adain, mean_std
from gst_core.interfaces import FeatureExtractor, Objective, Preview, StepContext
from gst_core.sample_keys import SampleKey, sample_generator
from gst_plugins._shared.temporal import TemporalTerm
from gst_plugins.datasets.style_images import StyleImages
from gst_plugins.datasets.with_style import WithStyle, pairable
from gst_plugins.objectives._feedforward import (
    check_rgb_content,
    content_preview,
    style_images,
    to_unit,
)
from gst_plugins.objectives.gan import split_batch

__all__ = ["ADAIN_LAYERS", "OFFLINE_ENCODER", "AdaINObjective", "adain_losses", "encoder_spec"]

ADAIN_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
OFFLINE_ENCODER: dict[str, Any] = {"name": "vgg19", "weights": "random", "width_multiplier": 0.25}
OFFLINE_NOTICE = (
    "gst: no VGG19 weights configured, so the AdaIN encoder is a seeded random VGG19 at 1/4 "
    'width (offline); for the paper\'s encoder add [feature_extractor] name = "vgg19" with '
    'weights = "vgg19.pth", or name = "vgg_normalised" with pytorch-AdaIN\'s file'
)


def encoder_spec(config: Mapping[str, Any]) -> dict:
    """The encoder's spec: ``[feature_extractor]``, VGG19 with weights, or the offline one.
    (Built by :func:`build_encoder` with the AdaIN taps, so not through ``component``.)"""
    from gst_plugins.feature_extractors.weights import find_weights

    if "feature_extractor" in config:
        return dict(config["feature_extractor"])
    if find_weights("vgg19", None) is not None:
        return {"name": "vgg19"}
    print(OFFLINE_NOTICE, file=sys.stderr)
    return dict(OFFLINE_ENCODER)


def build_encoder(spec: Mapping[str, Any], layers: Sequence[str]) -> FeatureExtractor:
    """The encoder from its spec, returning ``layers`` (the spec's own ``layers`` win)."""
    from gst_core.kinds import feature_extractors

    spec = dict(spec)
    spec.setdefault("layers", list(layers))
    encoder = feature_extractors.build(spec)
    missing = [name for name in layers if name not in encoder.available_layers]
    if missing:
        raise TrainingSetupError(
            f"the encoder {spec['name']!r} has no tap {', '.join(missing)}; AdaIN needs "
            f"{', '.join(layers)} (set [objective] layers to taps it has)"
        )
    return encoder.requires_grad_(False).eval()


def adain_losses(
    out_features: Mapping[str, Tensor],
    target: Tensor,
    style_stats: Mapping[str, tuple[Tensor, Tensor]],
    layers: Sequence[str],
) -> tuple[Tensor, Tensor]:
    """``(content, style)``: the paper's two losses for a decoded batch's features."""
    content = F.mse_loss(out_features[layers[-1]], target)
    style = out_features[layers[-1]].new_zeros(())
    for name in layers:
        mean, std = mean_std(out_features[name])
        target_mean, target_std = style_stats[name]
        style = style + F.mse_loss(mean, target_mean) + F.mse_loss(std, target_std)
    return content, style


class AdaINObjective(Objective):
    """Train a decoder that inverts AdaIN's target features, for any style image."""

    name = "adain"
    cli_options: ClassVar[dict[str, tuple[str, str]]] = {
        "style": ("objective.style_dir", "a folder of style images (default: built-in drawn)"),
    }
    default_data: ClassVar[dict[str, Any]] = {"name": "content_photos", "image_size": 128}
    #: pytorch-AdaIN's Adam at lr 1e-4 and batch 8; `[train]` overrides them.
    default_train: ClassVar[dict[str, Any]] = {
        "optimizer": {"name": "Adam", "lr": 1e-4},
        "batch_size": 8,
        "steps": 160000,
    }

    def __init__(
        self,
        decoder: nn.Module,
        encoder: FeatureExtractor,
        style_images: StyleImages | Sequence[Tensor],
        *,
        layers: Sequence[str] = ADAIN_LAYERS,
        content_weight: float = 1.0,
        style_weight: float = 10.0,
        seed: int = 0,
        preview_count: int = 4,
        temporal_weight: float = 0.0,
        temporal_shift: float = 8.0,
        temporal_noise: float = 0.02,
        temporal_samples: int = 0,
        temporal_start: int = 0,
        temporal_warp: str = "bilinear",
    ) -> None:
        if not isinstance(style_images, StyleImages):
            style_images = StyleImages(images=list(style_images))
        if not len(style_images):
            raise TrainingSetupError("adain needs at least one style image")
        self.decoder, self.encoder = decoder, encoder
        self.layers = tuple(layers)
        self.styles = style_images
        self.crop_size: int | None = None  # the content size, set by check_data
        self.paired_styles = False  # batches carry their style crops (training_data)
        self.seed = seed
        self.content_weight, self.style_weight = float(content_weight), float(style_weight)
        self.preview_count = preview_count
        self.preview_images: Tensor | None = None
        self._options: dict[str, Any] = {}
        self.temporal = TemporalTerm.checked(
            "adain",
            temporal_weight,
            temporal_shift,
            temporal_noise,
            temporal_samples,
            start=temporal_start,
            warp=temporal_warp,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str = "<config>") -> AdaINObjective:
        options = config_options(config)
        layers = tuple(options.pop("layers", ADAIN_LAYERS))
        x_spec = encoder_spec(config)
        encoder = build_encoder(x_spec, layers)
        with torch.no_grad():
            channels = encoder(torch.rand(1, 3, 32, 32))[layers[-1]].shape[1]
        width = x_spec.get("width_multiplier", 1.0)
        default = {"name": "adain_decoder", "width_multiplier": width, "in_channels": channels}
        decoder, g_spec = component(config, "generator", default, source)
        style_dir, style_size = options.pop("style_dir", None), options.pop("style_size", 160)
        style_cache = options.pop("style_cache", "auto")
        styles = (
            style_images(style_dir, style_size, cache=style_cache)
            if style_dir is not None
            else StyleImages(images=_builtin_styles(style_size))
        )
        objective = construct(
            cls, decoder, encoder, styles, options={"layers": layers, **options}, source=source
        )
        objective.network_specs = {"decoder": {"kind": "generator", **g_spec}}
        objective._options = {
            "style_dir": style_dir,
            "style_size": style_size,
            "style_cache": style_cache,
            "layers": list(layers),
            "encoder": {k: v for k, v in x_spec.items() if k != "layers"},
            **options,
        }
        return objective

    def networks(self) -> dict[str, nn.Module]:
        return {"decoder": self.decoder}

    def config(self) -> dict[str, Any]:
        return dict(self._options)

    def check_data(self, dataset: Any) -> None:
        self.crop_size = check_rgb_content(dataset, "adain").shape[-1]
        self.preview_images = content_preview(dataset, self.preview_count)

    def training_data(self, dataset: Any) -> Any:
        """A map-style dataset is paired with style crops, read in the same workers."""
        if self.crop_size is None or not pairable(dataset):
            return dataset
        self.paired_styles = True
        return WithStyle(dataset, self.styles, self.crop_size)

    def style_batch(self, count: int, size: int, step: int, seed: int) -> Tensor:
        """``count`` random ``size``² crops of the style images in ``[0, 1]``, drawn from
        (seed, step, slot): for data not paired with them, and for previews."""
        keys = [SampleKey(i, step, seed) for i in range(count)]
        return torch.stack([self.styles.crop(size, sample_generator(k, "style")) for k in keys])

    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        self.encoder.to(ctx.device)
        if self.paired_styles:
            batch, style = batch
        images, _ = split_batch(batch)
        if not self.paired_styles:
            style = self.style_batch(len(images), images.shape[-1], ctx.step, self.seed)
        content = to_unit(images)
        style = style.to(ctx.device)
        with torch.no_grad():
            style_features = self.encoder(style)
            stats = {n: mean_std(style_features[n]) for n in self.layers}
            target = adain(self.encoder(content)[self.layers[-1]], *stats[self.layers[-1]])
        with ctx.autocast():
            decoded = nets["decoder"](target)
        content_loss, style_loss = adain_losses(self.encoder(decoded.float()), target, stats,
                                                self.layers)  # fmt: skip
        total = self.content_weight * content_loss + self.style_weight * style_loss
        metrics = {"loss_content": content_loss.detach(), "loss_style": style_loss.detach()}
        if self.temporal.active(ctx.step):  # compound regularisation (Wang et al. 2020)
            with ctx.autocast():
                temporal = self.temporal_term(nets["decoder"], images, decoded, stats, ctx.step)
            total = total + self.temporal.weight * temporal
            metrics["loss_temporal"] = temporal.detach()
        elif self.temporal:  # before temporal_start: logged as 0, the log keeps its columns
            metrics["loss_temporal"] = total.new_zeros(()).detach()
        ctx.optimize("decoder", total)
        return {**metrics, "loss_total": total.detach()}

    def temporal_term(
        self,
        decoder: nn.Module,
        images: Tensor,
        decoded: Tensor,
        stats: Mapping[str, tuple[Tensor, Tensor]],
        step: int,
    ) -> Tensor:
        """The temporal term of the whole stylisation, on [-1, 1] like the other objectives';
        each sample keeps its style, so only the content moves. Its flows and noise are drawn
        from (seed, step), as the style crops are: a resume draws the same ones."""
        last = self.layers[-1]

        def stylise(moved: Tensor) -> Tensor:
            mean, std = (t[: len(moved)] for t in stats[last])  # temporal_samples: a part
            with torch.no_grad():  # the encoder is frozen and the input is no parameter
                target = adain(self.encoder(to_unit(moved))[last], mean, std)
            return decoder(target).float() * 2 - 1

        rng = sample_generator(SampleKey(0, step, self.seed), "temporal")
        return self.temporal.loss(stylise, images, decoded.float() * 2 - 1, rng)

    @torch.no_grad()
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        """Content (top), a style (middle) and the decoded result (bottom), per column."""
        decoder = networks["decoder"]
        device = next(decoder.parameters()).device
        content = self.preview_images
        if content is None:
            content = self.style_batch(1, 64, step=-1, seed=1) * 2 - 1
        content = to_unit(content[:count]).to(device)
        # Fixed styles, from a generator of their own: previews never touch the training stream.
        style = self.style_batch(len(content), content.shape[-1], step=-1, seed=0)
        self.encoder.to(device)
        style = style.to(device)
        target = adain(
            self.encoder(content)[self.layers[-1]], *mean_std(self.encoder(style)[self.layers[-1]])
        )
        out = decoder(target).float().clamp(0, 1)
        return Preview(torch.cat([content, style, out]) * 2 - 1, len(content))


def _builtin_styles(size: int) -> list[Tensor]:
    from gst_plugins.datasets.drawn_styles import DrawnStyles

    data = DrawnStyles(image_size=size)
    return [to_unit(data[i][0]).unsqueeze(0) for i in range(len(data))]
