"""What one training step does: the seam between a training method and the loop.

The :class:`~gst_core.training.trainer.Trainer` owns everything that is the
same for every adversarial method: the data stream, optimisers, mixed
precision, the non-finite guard, the EMA copies, callbacks, checkpoints and
resuming. An :class:`Objective` owns the rest: which networks exist, which
optimiser trains which of them, and the update rule of one step.

The GAN objective is one; the others this seam is shaped for:

* pix2pix: networks ``generator`` (an ``"image"`` generator) and
  ``discriminator`` (``patchgan`` on the input and output concatenated);
  a step does one D update and one G update with adversarial + λ·L1 terms.
* CycleGAN: networks ``g_ab``, ``g_ba``, ``d_a``, ``d_b``; two optimisers,
  ``{"generators": ["g_ab", "g_ba"], "discriminators": ["d_a", "d_b"]}``;
  cycle and identity terms; the history pool of fakes lives in the
  objective and is saved through :meth:`Objective.state_dict`.
* GAN style transfer: a generator trained with adversarial plus
  perceptual/style losses (the feature extractor is held by the objective
  but is not in :meth:`networks`, as it is frozen).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

import torch
from torch import Tensor, nn

__all__ = ["Objective", "Preview", "StepContext"]


class StepContext(Protocol):
    """What the trainer lends an objective during one step."""

    step: int  # the number of steps completed before this one
    device: torch.device

    def autocast(self) -> AbstractContextManager[Any]:
        """Mixed precision for forward passes (a no-op unless AMP is on)."""

    def optimize(self, optimizer: str, loss: Tensor) -> None:
        """Zero the grads of ``optimizer``'s networks, backpropagate ``loss`` (scaled under AMP),
        and step. Raises :class:`~gst_core.training.errors.NonFiniteLossError` first, leaving the
        weights untouched, if ``loss`` is NaN or infinite."""

    def next_batch(self) -> Any:
        """Another batch from the data stream, on the device (for extra critic steps)."""


class Preview(tuple):
    """``(images in [-1, 1] of shape (B, C, H, W), images per grid row)``."""

    __slots__ = ()

    def __new__(cls, images: Tensor, nrow: int) -> Preview:
        return super().__new__(cls, (images, nrow))


class Objective(ABC):
    """A training method: its networks, its optimiser groups and its step."""

    #: Short name, recorded in checkpoints and used by ``gst train NAME``.
    name: ClassVar[str] = "objective"

    #: Networks that get an exponential-moving-average copy when the trainer's EMA is on.
    ema_networks: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Every network to move to the device, checkpoint and restore, by name."""

    def optimizer_groups(self) -> dict[str, list[str]]:
        """Optimiser name → the networks it trains. Default: one optimiser per network."""
        return {name: [name] for name in self.networks()}

    def check_data(self, dataset: Any) -> None:  # noqa: B027 - optional hook
        """Raise a :class:`~gst_core.errors.GstError` if ``dataset`` cannot feed this objective."""

    @abstractmethod
    def train_step(self, batch: Any, ctx: StepContext) -> dict[str, Tensor]:
        """One step; returns detached scalar metrics (e.g. losses) to log."""

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
