"""What a generator, a discriminator, a loss and a feature extractor are.

Every component is an ``nn.Module`` subclass of one of the classes below. The
registry checks a component against its kind's class, and the pipelines rely
only on the contracts written here, so any module that honours a contract can
be handed to a pipeline directly, registered or not.

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

from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

__all__ = [
    "AdversarialLoss",
    "Discriminator",
    "DiscriminatorPenalty",
    "FeatureExtractor",
    "ImageGenerator",
    "Loss",
]


class ImageGenerator(nn.Module):
    """Maps an input to images in ``[-1, 1]``.

    ``input_kind`` says what ``forward`` takes:

    * ``"latent"`` (noise-to-image, DCGAN and kin): ``forward(z, labels=None)``
      with ``z`` of shape ``(B, latent_dim)``.
    * ``"image"`` (image-to-image, pix2pix/CycleGAN/fast style transfer):
      ``forward(x, labels=None)`` with ``x`` of shape ``(B, in_channels, H, W)``.

    Output: ``(B, *image_shape)`` in ``[-1, 1]`` for latent generators, and
    ``(B, out_channels, H, W)`` for image generators.

    Conditioning: a class-conditional generator sets ``num_classes > 0`` and
    requires ``labels``; an unconditional one has ``num_classes == 0`` and
    rejects labels.
    """

    input_kind: ClassVar[Literal["latent", "image"]] = "latent"
    latent_dim: int = 0
    num_classes: int = 0
    image_shape: tuple[int, int, int] = (3, 0, 0)

    def sample_latent(self, batch_size: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Standard-normal latents ``(batch_size, latent_dim)`` on this module's device."""
        device = next(self.parameters()).device
        return torch.randn(batch_size, self.latent_dim, generator=generator, device=device)


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


class FeatureExtractor(nn.Module):
    """Maps RGB images in ``[0, 1]`` to named feature maps.

    ``forward(images) -> dict[str, Tensor]`` with images ``(B, 3, H, W)``; the
    dict holds exactly the taps listed in ``layers`` (each ``(B, C_l, H_l, W_l)``),
    in network order. ``available_layers`` lists every tap the network has.
    Parameters are frozen: an extractor is a fixed measuring instrument, and
    gradients flow to the input image only.
    """

    available_layers: ClassVar[Sequence[str]] = ()
    layers: tuple[str, ...] = ()

    def forward(self, images: Tensor) -> Mapping[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError
