"""The contracts of gst's six kinds of component.

Generators, discriminators, losses and feature extractors are ``nn.Module``
subclasses of the classes below; an objective (a training method) subclasses
:class:`Objective`; a dataset is a ``torch.utils.data.Dataset`` that follows
:class:`ImageDataset`'s contract. The registry checks a component against its
kind's class, and the pipelines and the trainer rely only on the contracts
written here, so anything that honours a contract can be handed over
directly, registered or not.

Image conventions used throughout gst:

* GAN images (generator outputs, discriminator inputs) are ``(B, C, H, W)``
  float tensors in ``[-1, 1]`` (the ``tanh`` range of DCGAN, pix2pix and
  CycleGAN).
* Style-transfer images (feature-extractor inputs) are ``(B, 3, H, W)`` RGB
  in ``[0, 1]``; an extractor normalises internally (ImageNet statistics for
  VGG), so callers never do.
* Class labels are ``LongTensor`` of shape ``(B,)`` with values in
  ``[0, num_classes)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Literal, Protocol

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from gst_core.errors import LayerWeightError, TrainingSetupError
from gst_core.per_sample import per_sample

__all__ = [
    "AdversarialLoss",
    "Discriminator",
    "DiscriminatorPenalty",
    "FeatureExtractor",
    "FeatureLoss",
    "ImageDataset",
    "ImageGenerator",
    "Loss",
    "Objective",
    "Preview",
    "StepContext",
    "layer_weights",
]


class ImageGenerator(nn.Module):
    """Maps an input to images in ``[-1, 1]``.

    ``input_kind`` says what ``forward`` takes:

    * ``"latent"`` (noise-to-image, DCGAN and kin): ``forward(z, labels=None)``
      with ``z`` of shape ``(B, latent_dim)``.
    * ``"image"`` (image-to-image, pix2pix/CycleGAN/fast style transfer):
      ``forward(x, labels=None)`` with ``x`` of shape ``(B, in_channels, H, W)``.

    * ``"features"`` (a decoder of feature maps, AdaIN's): ``forward(features, labels=None)``
      with ``features`` of shape ``(B, in_channels, h, w)``, an extractor's maps; the output
      is an RGB image ``upscale`` times larger, unbounded (the method clamps it).

    Output: ``(B, *image_shape)`` in ``[-1, 1]`` for latent generators, and
    ``(B, out_channels, H, W)`` for image generators.

    Conditioning: a class-conditional generator sets ``num_classes > 0`` and
    requires ``labels``; an unconditional one has ``num_classes == 0`` and
    rejects labels.

    Members the core reads (``gst translate``, ``gst export``, the image-to-image
    objectives' data checks):

    * ``in_channels`` / ``out_channels``: channels an image generator takes and
      makes (``None``: not fixed; the checks that need them are skipped);
    * ``size_multiple``: the image sides an image generator needs are multiples
      of it (a U-Net: ``2**num_downs``); other sizes are padded and cropped back.
    """

    input_kind: ClassVar[Literal["latent", "image", "features"]] = "latent"
    latent_dim: int = 0
    num_classes: int = 0
    image_shape: tuple[int, int, int] = (3, 0, 0)
    #: Channels an image generator takes (``None``: any / not declared).
    in_channels: int | None = None
    #: Channels an image generator makes (``None``: not declared).
    out_channels: int | None = None
    #: Input sides must be multiples of this (1: any size).
    size_multiple: int = 1

    def sample_latent(self, batch_size: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Standard-normal latents ``(batch_size, latent_dim)`` on this module's device.

        From the global RNG (no ``generator``) under torchrun, the latents of the global batch
        are drawn and this process's slice returned, so they do not depend on the process count
        (:func:`gst_core.per_sample.per_sample`).
        """
        device = next(self.parameters()).device
        if generator is not None:
            return torch.randn(batch_size, self.latent_dim, generator=generator, device=device)
        return per_sample(batch_size, lambda n: torch.randn(n, self.latent_dim, device=device))


class Discriminator(nn.Module):
    """Scores images: ``forward(images, labels=None) -> logits``.

    ``images`` are ``(B, C, H, W)`` in ``[-1, 1]``. The result is raw scores
    (no sigmoid) of shape ``(B,)`` for a whole-image discriminator or
    ``(B, 1, h, w)`` for a patch discriminator; higher means "more real".
    A class-conditional discriminator sets ``num_classes > 0`` and requires
    ``labels``.
    """

    num_classes: int = 0
    image_shape: tuple[int, int, int] = (3, 0, 0)


class Loss(nn.Module):
    """A differentiable objective: ``forward(...) -> scalar tensor``.

    What ``forward`` takes depends on the loss family (content losses take
    feature maps, total variation takes an image, ...); each component
    documents its own arguments. The result is a 0-dim float tensor.
    """


class AdversarialLoss(Loss):
    """A GAN objective split into its two players' terms.

    Both methods take raw discriminator scores (any shape, as produced by a
    :class:`Discriminator`) and return a 0-dim tensor to *minimise*.
    ``forward(real_scores, fake_scores)`` is the discriminator loss, so the
    module can be used wherever a plain :class:`Loss` is expected.
    """

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return self.discriminator_loss(real_scores, fake_scores)


class DiscriminatorPenalty(Loss):
    """A discriminator regulariser (R1, WGAN-GP's gradient penalty, ...).

    ``forward(discriminator, real, fake, labels=None) -> weighted scalar``, added
    to the discriminator's loss. Unlike a score-based loss it needs the
    discriminator itself (it differentiates through it with respect to the
    images). ``real`` and ``fake`` are image batches in ``[-1, 1]`` (``fake``
    detached from the generator); ``labels`` go to a conditional
    discriminator. The result already includes ``self.weight``. Penalties are
    registered in the ``loss`` registry, so a config lists them beside the
    adversarial loss (``[loss.gp] name = "gradient_penalty"``).
    """

    weight: float = 1.0

    def forward(  # pragma: no cover - abstract
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None
    ) -> Tensor:
        raise NotImplementedError


def layer_weights(
    layers: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None, owner: str
) -> dict[str, float]:
    """``{layer: weight}``; ``None`` weighs every layer 1 (as the tutorial and neural-style do)."""
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    if weights is None:
        return dict.fromkeys(layers, 1.0)
    if isinstance(weights, Mapping):
        extra = sorted(set(weights) - set(layers))
        if extra:
            raise LayerWeightError(
                f"{owner}: layer_weights name {', '.join(extra)}, which are not among its "
                f"layers ({', '.join(layers)}); add them to layers or drop the weights"
            )
        return {name: float(weights.get(name, 1.0)) for name in layers}
    weights = list(weights)
    if len(weights) != len(layers):
        raise LayerWeightError(
            f"{owner}: {len(weights)} layer weight(s) for {len(layers)} layer(s) "
            f"({', '.join(layers) or 'none named'}); give one weight per layer"
            + ("" if layers else " and name the layers (layers = [...])")
        )
    return {name: float(w) for name, w in zip(layers, weights, strict=True)}


class FeatureLoss(Loss):
    """A loss over named feature maps (content, style, ...), one weighted term per layer.

    The perceptual loss (:class:`gst_core.perceptual.PerceptualLoss`) drives it:

    * ``layers`` / ``weights``: the taps it scores and their weights. Empty
      ``layers`` let the perceptual loss pick the extractor's defaults
      (``default_content_layers`` or ``default_style_layers``, per
      :attr:`default_layers_attr`) through :meth:`set_layers`.
    * :meth:`targets`: what a reference image's features become once, without
      gradients (the features themselves by default; Gram matrices for style).
    * :meth:`layer_term`: one layer's weighted term; the perceptual loss calls it
      as each tap is computed, which keeps peak memory low.
    * ``forward(features, targets)``: the sum of the terms over :attr:`layers`.

    Targets of one reference (shape ``(1, ...)`` or unbatched) broadcast over a
    batch of images; targets of a batch pair with it item by item.
    """

    #: How error messages name the loss, e.g. "style loss".
    owner: ClassVar[str] = "feature loss"
    #: The extractor attribute that names this loss's default layers.
    default_layers_attr: ClassVar[str] = "default_content_layers"
    layers: tuple[str, ...] = ()
    weights: dict[str, float]

    def set_layers(
        self,
        layers: Sequence[str],
        weights: Mapping[str, float] | Sequence[float] | None = None,
    ) -> None:
        """Use ``layers`` with ``weights`` (one per layer, a ``{layer: w}`` dict, or all 1)."""
        self.weights = layer_weights(layers, weights, self.owner)
        self.layers = tuple(self.weights)

    @torch.no_grad()
    def targets(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Targets for :meth:`layer_term` from a reference image's features."""
        return {name: features[name].detach() for name in self.layers}

    def layer_term(self, name: str, features: Tensor, target: Tensor) -> Tensor:
        """Layer ``name``'s weighted term."""
        raise NotImplementedError(f"{type(self).__name__} must implement layer_term")

    def forward(self, features: Mapping[str, Tensor], targets: Mapping[str, Tensor]) -> Tensor:
        if not self.layers:
            raise LayerWeightError(f"{self.owner} has no layers; set layers=(...)")
        terms = [self.layer_term(n, features[n], targets[n]) for n in self.layers]
        return torch.stack(terms).sum() if len(terms) > 1 else terms[0]


class FeatureExtractor(nn.Module):
    """Maps RGB images in ``[0, 1]`` to named feature maps.

    ``forward(images) -> dict[str, Tensor]`` with images ``(B, 3, H, W)``; the
    dict holds exactly the taps listed in ``layers`` (each ``(B, C_l, H_l, W_l)``,
    or ``(B, D)`` for a pooled vector), in network order. ``available_layers``
    lists every tap the network has. Parameters are frozen: an extractor is a
    fixed measuring instrument, and gradients flow to the input image only.

    The optional members below have working defaults; override them to help
    the style-transfer pipeline:

    * ``default_content_layers`` / ``default_style_layers``: the taps a content
      or style loss uses when it names none.
    * ``default_loss_weights``: content/style/TV weights suited to this
      network's feature scale (keys ``content_weight``, ``style_weight``,
      ``tv_weight``).
    * :meth:`iter_taps`: yield the taps one at a time as they are computed.
    * :meth:`activation_bytes_per_pixel`: memory kept for backward per input
      pixel, for the "image too large" guard (0: unknown, no guard).
    * ``comparable``, ``input_size``, ``resize_method``: what ``gst eval`` and the
      FID/KID code read (see below).
    """

    available_layers: ClassVar[Sequence[str]] = ()
    default_content_layers: Sequence[str] = ()
    default_style_layers: Sequence[str] = ()
    default_loss_weights: ClassVar[Mapping[str, float]] = {}
    layers: tuple[str, ...] = ()
    #: True when its FID/KID values compare with published ones (pretrained Inception);
    #: False makes the metrics say the numbers only compare with each other.
    comparable: bool = False
    #: ``(H, W)`` the metrics resize images to before batching them (``None``: the metrics'
    #: default, 299×299).
    input_size: tuple[int, int] | None = None
    #: How images are prepared, in a sentence for the user (``None``: "bilinear resize to ...").
    resize_method: str | None = None

    def forward(self, images: Tensor) -> Mapping[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def iter_taps(self, images: Tensor) -> Iterator[tuple[str, Tensor]]:
        """``(name, features)`` for each tap in :attr:`layers`, in network order."""
        yield from self(images).items()

    def activation_bytes_per_pixel(self) -> float:
        """Bytes of activations kept for backward per input pixel; 0 when unknown."""
        return 0.0


class ImageDataset(Dataset):
    """The contract of a registered dataset (``[data] name = ...``).

    A map-style ``torch.utils.data.Dataset`` (or an ``IterableDataset``) whose
    items are what its objective's ``train_step`` expects. The built-in GAN
    data yields ``(image, label)``: a float ``(C, H, W)`` image in ``[-1, 1]``
    and an int label (``-1`` when unlabelled); paired data may yield dicts
    such as ``{"A": ..., "B": ...}``. Optional members the trainer and
    objectives use when present:

    * ``num_classes`` (0: unlabelled) and ``classes`` (names);
    * ``image_shape``: ``(C, H, W)`` of every item, when fixed;
    * ``get_batch(indices)``: a whole batch at once (in-memory data), which the
      trainer prefers to collating items one by one;
    * ``skipped``: files that could not be read;
    * ``paired``: ``False`` for data whose A and B items are not pairs (unpaired
      domains), which pix2pix refuses; ``True`` by default.

    Registered factories take keyword arguments from the ``[data]`` table.
    """

    num_classes: int = 0
    classes: Sequence[str] = ()
    #: Whether A/B items belong together (paired data); unpaired data sets it False.
    paired: bool = True


class StepContext(Protocol):
    """What the trainer lends an objective during one step."""

    step: int  # the number of steps completed before this one
    device: torch.device

    def autocast(self) -> AbstractContextManager[Any]:
        """Mixed precision for forward passes (a no-op unless AMP is on)."""

    def optimize(self, optimizer: str, loss: Tensor) -> None:
        """Zero the grads of ``optimizer``'s networks, backpropagate ``loss`` (scaled under AMP),
        and step. Raises :class:`~gst_core.errors.NonFiniteLossError` first, leaving the
        weights untouched, if ``loss`` is NaN or infinite."""

    def next_batch(self) -> Any:
        """Another batch from the data stream, on the device (for extra critic steps)."""


class Preview(tuple):
    """``(images in [-1, 1] of shape (B, C, H, W), images per grid row)``."""

    __slots__ = ()

    def __new__(cls, images: Tensor, nrow: int) -> Preview:
        return super().__new__(cls, (images, nrow))


class Objective(ABC):
    """A training method: its networks, its optimiser groups and its step.

    The trainer (``Trainer`` in the training package) owns what every method shares: the
    data stream, optimisers, mixed precision, the non-finite guard, EMA copies,
    callbacks, checkpoints and exact resuming. An objective owns the rest.

    **From a config.** ``gst train NAME --config run.toml`` looks ``NAME`` up in
    the objective registry and calls :meth:`from_config` with the parsed TOML.
    The objective reads its own sections (``[generator]``, ``[loss.<label>]``,
    ``[objective]`` for its options, ...): :func:`gst_core.config.component` builds one
    network's section (or a default) and returns the spec to record in
    :attr:`network_specs`, :func:`gst_core.config.components` labelled sections, and
    :func:`gst_core.config.options` reads ``[objective]``. ``[data]`` and ``[train]``
    belong to the trainer; ``gst train`` also reads :attr:`cli_options`,
    :attr:`default_data` and :attr:`default_train`.

    **Each step** the trainer calls ``train_step(nets, batch, ctx)`` with the
    networks to use (the same modules as :meth:`networks`, or wrappers of them
    such as DDP) and a :class:`StepContext`; the objective computes its losses
    and calls ``ctx.optimize(group, loss)`` once per update.

    **Checkpoints** hold every network's weights, the optimisers, the EMA copies
    and :meth:`state_dict` (state beyond the networks, e.g. an image pool),
    plus ``name``, :meth:`config` and :attr:`network_specs`.
    :func:`gst_core.checkpoint.load_network` rebuilds one network from a
    checkpoint through its spec, for ``gst sample`` and other commands.

    **Previews**: :meth:`preview` makes images a person can look at (the
    trainer writes them as PNG grids).

    **Network names** the commands rely on: the network ``gst sample``, ``gst
    eval`` and ``gst export`` use is ``generator``; an image-to-image objective
    that translates both ways names its generators ``g_ab`` and ``g_ba``, which
    ``gst translate --direction a2b|b2a`` picks.

    **Under torchrun** ``nets`` are DDP wrappers, one per trainable network, and
    the batch is this process's share of the global batch. An objective trains
    the same on any number of processes when its losses are batch means, it
    freezes (``requires_grad_(False)``) a network it only backpropagates
    through, and it draws per-sample noise through ``sample_latent`` or
    :func:`gst_core.per_sample.per_sample` (docs/distributed.md).
    """

    #: Short name, recorded in checkpoints; ``gst train NAME`` uses the registry's name.
    name: ClassVar[str] = "objective"

    #: Networks that get an exponential-moving-average copy when the trainer's EMA is on.
    ema_networks: ClassVar[tuple[str, ...]] = ()

    #: Network name → ``{"kind": ..., "name": ..., **kwargs}``: how to rebuild it from the
    #: registry. Filled by :meth:`from_config`; recorded in checkpoints.
    network_specs: dict[str, dict[str, Any]] = {}  # noqa: RUF012 - replaced per instance

    #: Flags ``gst train NAME`` adds for this objective: flag → (config key, help), e.g.
    #: ``{"style": ("objective.style", "the style image")}`` gives ``--style PATH``.
    cli_options: ClassVar[Mapping[str, tuple[str, str]]] = {}
    #: The ``[data]`` table ``gst train NAME`` uses when the config has none (``{}``: none).
    default_data: ClassVar[Mapping[str, Any]] = {}
    #: ``[train]`` options that suit this method; the config's own values win.
    default_train: ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, source: str = "<config>") -> Objective:
        """Build the objective from a parsed config (all its TOML sections)."""
        raise TrainingSetupError(
            f"{cls.__name__} does not implement from_config, so it cannot be trained from a "
            "config file; build it in Python and pass it to the Trainer"
        )

    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Every trainable network to move to the device, checkpoint and restore, by name."""

    def optimizer_groups(self) -> dict[str, list[str]]:
        """Optimiser name → the networks it trains. Default: one optimiser per network."""
        return {name: [name] for name in self.networks()}

    def check_data(self, dataset: Any) -> None:  # noqa: B027 - optional hook
        """Raise a :class:`~gst_core.errors.GstError` if ``dataset`` cannot feed this objective."""

    def training_data(self, dataset: Any) -> Any:
        """The data the trainer streams, given the ``[data]`` dataset (after :meth:`check_data`).
        Default: ``dataset`` itself. An objective that needs a second source per sample (the
        style crops of ``gan_style``/``adain``) returns a dataset pairing the two, so both are
        read in the same DataLoader workers with the same per-sample keys."""
        return dataset

    @abstractmethod
    def train_step(
        self, nets: Mapping[str, nn.Module], batch: Any, ctx: StepContext
    ) -> dict[str, Tensor]:
        """One step with ``nets``; returns detached scalar metrics (e.g. losses) to log."""

    @abstractmethod
    def preview(self, networks: Mapping[str, nn.Module], count: int) -> Preview:
        """Images a person can look at, made with ``networks`` (EMA copies where there are
        some). Must not draw from the global RNG, so previews never change training."""

    def state_dict(self) -> dict[str, Any]:
        """State of the objective itself (e.g. a history pool), beyond its networks."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`state_dict` returned."""

    def config(self) -> dict[str, Any]:
        """Options of the objective, recorded in checkpoints (JSON-able)."""
        return {}
