"""The contract of a discriminator regulariser (R1, gradient penalty, ...).

A penalty is a :class:`~gst_core.interfaces.Loss` registered in the ``loss``
registry like any other, so a config lists it next to the adversarial loss::

    [loss.adversarial]
    name = "wasserstein"
    [loss.gp]
    name = "gradient_penalty"
    weight = 10.0

Unlike a score-based loss it needs the discriminator itself (it
differentiates through it with respect to the images), hence its own
signature.
"""

from __future__ import annotations

from torch import Tensor, nn

from gst_core.interfaces import Loss

__all__ = ["DiscriminatorPenalty"]


class DiscriminatorPenalty(Loss):
    """``forward(discriminator, real, fake, labels=None) -> weighted scalar`` added to D's loss.

    ``real`` and ``fake`` are image batches in ``[-1, 1]`` (``fake`` detached
    from the generator); ``labels`` are passed to a conditional
    discriminator. The result already includes ``self.weight``.
    """

    weight: float = 1.0

    def forward(  # pragma: no cover - abstract
        self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None
    ) -> Tensor:
        raise NotImplementedError
