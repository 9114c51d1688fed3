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
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from gst_core.errors import GstError
from gst_core.kinds import KINDS
from gst_core.registry import Entry

__all__ = ["ComponentRow", "ProbeError", "check", "probe_in_subprocess", "rows"]


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


class ProbeError(GstError, RuntimeError):
    """The child interpreter that checks which components load did not report."""


def probe_in_subprocess(kind: str | None = None, timeout: float = 300.0) -> dict[tuple, dict]:
    """Run :func:`check` in a child interpreter; ``{(kind, name, target): row}``.

    The child writes its report to a file, not stdout, so a plugin that prints
    while it is imported cannot garble it.
    """
    with tempfile.TemporaryDirectory(prefix="gst-probe-") as folder:
        report = Path(folder) / "rows.json"
        cmd = [sys.executable, "-m", "gst_core.plugin_report", str(report)]
        try:
            done = subprocess.run(
                cmd + ([kind] if kind else []), capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise ProbeError(
                f"the load check did not finish within {timeout:.0f} s (a plugin hangs on "
                "import?); run `gst plugins check` to see which"
            ) from exc
        if done.returncode != 0 or not report.is_file():
            tail = "\n  ".join(done.stderr.strip().splitlines()[-5:]) or "(no output)"
            raise ProbeError(
                f"the load check exited with status {done.returncode} (a plugin crashed the "
                f"interpreter on import?):\n  {tail}\nrun `gst plugins check` to see which"
            )
        rows_found = json.loads(report.read_text())
    return {(r["kind"], r["name"], r["target"]): r for r in rows_found}


if __name__ == "__main__":
    # python -m gst_core.plugin_report REPORT.json [KIND]
    out_path, only_kind = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
    out_path.write_text(json.dumps([r.as_dict() for r in check(only_kind)]))
