"""The exceptions gst raises for a user's mistakes.

Each one says what was wrong and how to fix it. They also derive from the
built-in exception a caller would catch anyway (``LookupError``,
``TypeError``, ``ValueError``, ``ImportError``), so generic handlers keep
working.
"""

from __future__ import annotations

__all__ = [
    "ComponentArgumentError",
    "ComponentTypeError",
    "DataError",
    "DuplicateComponentError",
    "GstError",
    "LayerWeightError",
    "NonFiniteLossError",
    "PluginLoadError",
    "SpecError",
    "TrainingSetupError",
    "UnknownComponentError",
]


class GstError(Exception):
    """Base class of every error gst raises on purpose."""


class UnknownComponentError(GstError, LookupError):
    """No component of that kind has that name."""

    def __str__(self) -> str:  # LookupError would repr() a lone argument, quotes and all
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(GstError, ValueError):
    """Two sources register the same name for the same kind."""


class PluginLoadError(GstError, ImportError):
    """A plugin's entry point could not be imported; the cause is chained."""


class ComponentTypeError(GstError, TypeError):
    """An entry point or factory produced something that is not a component of its kind."""


class ComponentArgumentError(GstError, TypeError):
    """A component was built with keyword arguments its factory does not take."""


class SpecError(GstError, ValueError):
    """A component spec (dict or TOML section) is malformed."""


class LayerWeightError(GstError, ValueError):
    """A feature loss's layers or per-layer weights do not fit together."""


class DataError(GstError, ValueError):
    """A dataset cannot be built: a missing or empty folder, or no readable image."""


class TrainingSetupError(GstError, ValueError):
    """The networks, losses, data or options of a run do not fit together."""


class NonFiniteLossError(GstError, FloatingPointError):
    """A loss became NaN or infinite; the work stopped before using it.

    ``step`` is the last good step; ``image``, where there is one (style
    transfer), holds the last image with a finite loss.
    """

    def __init__(self, message: str, *, step: int | None = None, image: object = None) -> None:
        super().__init__(message)
        self.step = step
        self.image = image
