"""Finding plugin components through Python entry points.

Each kind has an entry-point group (``gst_core.generators`` and so on).
Reading a group touches only installed metadata: no plugin module is imported
until its component is used. ``importlib.metadata`` is the standard library's
reader; the older ``entrypoints`` package is in maintenance-only mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

__all__ = ["DiscoveredEntryPoint", "discover"]


@dataclass(frozen=True)
class DiscoveredEntryPoint:
    """One entry point of a group, with the distribution that declares it."""

    entry_point: EntryPoint
    distribution: str | None
    version: str | None

    @property
    def name(self) -> str:
        return self.entry_point.name

    @property
    def target(self) -> str:
        return self.entry_point.value


def discover(group: str) -> list[DiscoveredEntryPoint]:
    """Every entry point declared in ``group``, in a stable order (name, distribution)."""
    found = []
    for ep in entry_points(group=group):
        dist = getattr(ep, "dist", None)
        found.append(
            DiscoveredEntryPoint(
                entry_point=ep,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
        )
    return sorted(found, key=lambda d: (d.name, d.distribution or ""))
