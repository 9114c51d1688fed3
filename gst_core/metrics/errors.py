"""Errors of the FID/KID machinery."""

from __future__ import annotations

from gst_core.errors import GstError

__all__ = ["MetricError"]


class MetricError(GstError, ValueError):
    """A metric cannot be computed: bad feature shapes, too few samples, no images, ..."""
