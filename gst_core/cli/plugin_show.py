"""`gst plugins show NAME`: one component's signature, defaults, docstring and distribution,
as a timm user inspects a model before building it."""

from __future__ import annotations

import inspect
from typing import Any

from gst_core.errors import UnknownComponentError
from gst_core.kinds import KINDS, registry

__all__ = ["describe", "find"]


def find(name: str, kind: str | None = None) -> list[tuple[str, Any]]:
    """``(kind, entry)`` for every kind that registers ``name`` (or only ``kind``)."""
    kinds = [registry(kind).kind] if kind else list(KINDS)
    found = [(k, registry(k).entry(name)) for k in kinds if name in registry(k).names()]
    if not found:
        if kind:
            registry(kind).entry(name)  # raises, with close matches in that kind
        close = sorted({n for k in KINDS for n in registry(k).names() if _close(n, name)})
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownComponentError(
            f"no component is named {name!r}{hint} (`gst plugins list` shows them all)"
        )
    return found


def _close(candidate: str, name: str) -> bool:
    import difflib

    return bool(difflib.get_close_matches(name, [candidate], n=1, cutoff=0.6))


def describe(kind: str, name: str) -> str:
    """The text `gst plugins show` prints for one component (importing its module)."""
    entry = registry(kind).entry(name)
    factory = registry(kind).get(name)
    lines = [f"{kind} {name}", f"  from:      {entry.source}"]
    try:
        signature = str(inspect.signature(factory))
    except (TypeError, ValueError):
        signature = "(...)"
    lines.append(f"  signature: {name}{signature}")
    flags = getattr(factory, "cli_options", None) or {}
    if flags:
        lines.append(f"  flags (gst train {name}):")
        lines += [f"    --{flag}  → {spec[0]}: {spec[1]}" for flag, spec in flags.items()]
    for attribute in ("default_data", "default_train"):
        value = getattr(factory, attribute, None)
        if value:
            lines.append(f"  {attribute}: {value}")
    doc = inspect.getdoc(factory)
    if doc:
        lines += ["", *(f"  {line}" if line else "" for line in doc.splitlines())]
    return "\n".join(lines)
