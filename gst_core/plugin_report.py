"""What `gst plugins list` and `gst plugins check` report.

Listing reads metadata only. Whether each component *loads* is found by
importing it; :func:`probe_in_subprocess` does that in a child interpreter so
the listing process itself imports no plugin module (and a plugin that
crashes the interpreter on import cannot take the listing down with it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass

from gst_core.kinds import KINDS
from gst_core.registry import Entry

__all__ = ["ComponentRow", "check", "probe_in_subprocess", "rows"]


@dataclass
class ComponentRow:
    kind: str
    name: str
    distribution: str | None
    version: str | None
    target: str
    status: str  # ok | broken | conflict | not loaded | not checked
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _describe(exc: BaseException) -> str:
    """The error and the chain of causes under it, one line each."""
    parts = []
    seen: BaseException | None = exc
    while seen is not None:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__
    return "\n  caused by ".join(parts)


def _entries(kind: str | None) -> list[Entry]:
    registries = [KINDS[kind]] if kind else list(KINDS.values())
    return [e for r in registries for e in r.entries()]


def rows(
    kind: str | None = None, errors: dict[tuple[str, str], BaseException] | None = None
) -> list[ComponentRow]:
    """One row per registered component (conflicting duplicates each get a row). Imports nothing.

    ``errors`` maps ``(kind, name)`` to the exception that using it raised.
    """
    errors = errors or {}
    out = []
    for e in _entries(kind):
        error = errors.get((e.kind, e.name), e.error)
        for same in [e, *e.conflicts_with]:
            out.append(
                ComponentRow(
                    kind=same.kind,
                    name=same.name,
                    distribution=same.distribution,
                    version=same.version,
                    target=same.target,
                    status=same.status,
                    error=_describe(error) if error else None,
                )
            )
    return out


def check(kind: str | None = None) -> list[ComponentRow]:
    """Import every component, recording the failure of each that does not load."""
    errors = {}
    for e in _entries(kind):
        try:
            KINDS[e.kind].get(e.name)
        except Exception as exc:  # reported, not raised: one broken plugin must not hide others
            errors[(e.kind, e.name)] = exc
    return rows(kind, errors)


def probe_in_subprocess(kind: str | None = None, timeout: float = 300.0) -> dict[tuple, dict]:
    """Run :func:`check` in a child interpreter; ``{(kind, name, target): row}``."""
    cmd = [sys.executable, "-m", "gst_core.plugin_report"] + ([kind] if kind else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the plugin probe failed:\n{done.stderr.strip()}")
    return {(r["kind"], r["name"], r["target"]): r for r in json.loads(done.stdout)}


if __name__ == "__main__":
    print(json.dumps([r.as_dict() for r in check(sys.argv[1] if len(sys.argv) > 1 else None)]))
