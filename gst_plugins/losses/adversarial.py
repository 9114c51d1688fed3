"""Adversarial losses and discriminator penalties.

Every loss takes raw discriminator scores (logits, any shape: ``(B,)`` or
patch maps ``(B, 1, h, w)``) and averages over all elements. Formulas, with
``r`` the scores of real images, ``f`` those of generated ones and
``softplus(x) = log(1 + eˣ)`` (so ``-log σ(x) = softplus(-x)``):

==================  ===================================  =======================
name                discriminator minimises              generator minimises
==================  ===================================  =======================
``minimax``         softplus(-r) + softplus(f)           -softplus(f)
``non_saturating``  softplus(-r) + softplus(f)           softplus(-f)
``lsgan``           ½(r - 1)² + ½f²                      ½(f - 1)²
``hinge``           relu(1 - r) + relu(1 + f)            -f
``wasserstein``     f - r (+ drift·r²)                   -f
==================  ===================================  =======================

Penalties (:class:`~gst_core.interfaces.DiscriminatorPenalty`):
``r1`` (Mescheder et al. 2018), ``weight/2 · E‖∇ₓD(x)‖²`` on real images, and
``gradient_penalty`` (Gulrajani et al. 2017), ``weight · E(‖∇D(x̂)‖ - 1)²`` on
random interpolates of real and fake; WGAN-GP is ``wasserstein`` plus
``gradient_penalty``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.interfaces import AdversarialLoss, DiscriminatorPenalty
from gst_core.per_sample import per_sample

__all__ = [
    "GradientPenalty",
    "HingeLoss",
    "LSGANLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "R1Penalty",
    "WassersteinLoss",
    "input_gradients",
]


class MinimaxLoss(AdversarialLoss):
    """The original GAN game (Goodfellow et al. 2014): G minimises log(1 - D(G(z)))."""

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        # Saturates when D confidently rejects fakes: kept for completeness and study.
        return -F.softplus(fake_scores).mean()


class NonSaturatingLoss(MinimaxLoss):
    """BCE GAN with the non-saturating generator loss, -log D(G(z)) (the DCGAN default)."""

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return F.softplus(-fake_scores).mean()


class LSGANLoss(AdversarialLoss):
    """Least squares GAN (Mao et al. 2017) with targets real = 1, fake = 0."""

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return 0.5 * ((real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean())

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return 0.5 * (fake_scores - 1).pow(2).mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; SNGAN, BigGAN)."""

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()


class WassersteinLoss(AdversarialLoss):
    """Wasserstein critic loss (Arjovsky et al. 2017); pair it with ``gradient_penalty``.

    ``drift`` (ProGAN uses 0.001) keeps real scores from wandering off.
    """

    def __init__(self, drift: float = 0.0) -> None:
        super().__init__()
        self.drift = float(drift)

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        loss = fake_scores.mean() - real_scores.mean()
        if self.drift:
            loss = loss + self.drift * real_scores.pow(2).mean()
        return loss

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()


def input_gradients(
    discriminator: nn.Module, images: Tensor, labels: Tensor | None = None
) -> Tensor:
    """``∇ₓ Σ D(x)``, one gradient per image, kept in the graph so a penalty can be trained."""
    images = images.detach().requires_grad_(True)
    scores = discriminator(images, labels)
    (grad,) = torch.autograd.grad(scores.sum(), images, create_graph=True)
    return grad


class R1Penalty(DiscriminatorPenalty):
    """``weight/2 · E‖∇ₓD(x)‖²`` over real images (Mescheder et al. 2018; StyleGAN uses 10)."""

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None
    ) -> Tensor:
        grad = input_gradients(discriminator, real, labels)
        return 0.5 * self.weight * grad.pow(2).flatten(1).sum(1).mean()


class GradientPenalty(DiscriminatorPenalty):
    """``weight · E(‖∇D(x̂)‖ - target)²`` at ``x̂ = εx + (1-ε)x̃``, ``ε ~ U(0, 1)`` per image."""

    def __init__(self, weight: float = 10.0, target: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)
        self.target = float(target)

    def forward(
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None
    ) -> Tensor:
        if real.shape != fake.shape:
            raise ValueError(
                f"gradient_penalty needs real and fake batches of one shape, got "
                f"{tuple(real.shape)} and {tuple(fake.shape)}"
            )
        ones = [1] * (real.dim() - 1)
        # Drawn for the global batch and sliced under torchrun, so that the penalty does not
        # depend on the number of processes.
        eps = per_sample(real.shape[0], lambda n: torch.rand(n, *ones, device=real.device))
        mixed = eps * real.detach() + (1 - eps) * fake.detach()
        grad = input_gradients(discriminator, mixed, labels)
        norm = grad.flatten(1).norm(2, dim=1)
        return self.weight * (norm - self.target).pow(2).mean()
