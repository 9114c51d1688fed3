"""Errors raised while training."""

from __future__ import annotations

from gst_core.errors import GstError

__all__ = ["NonFiniteLossError", "TrainingSetupError"]


class TrainingSetupError(GstError, ValueError):
    """The networks, losses, data or options of a run do not fit together."""


class NonFiniteLossError(GstError, FloatingPointError):
    """A loss became NaN or infinite; training stopped before the weights were touched."""
