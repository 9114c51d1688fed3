"""The Runs tab's reading: run folders under a root, their logged losses and latest preview.

Only reads: a run being trained is never touched (a half-written last line of
``metrics.jsonl`` is skipped, as the trainer's own resume does).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from gst_core.errors import GstError

__all__ = ["find_runs", "latest_preview", "loss_curves", "read_metrics", "run_summary"]

# Keys of a metrics.jsonl line that are not curves.
NOT_CURVES = {"step", "seconds", "error"}


def _is_run(folder: Path) -> bool:
    return (folder / "metrics.jsonl").is_file() or (folder / "checkpoints" / "last.pt").is_file()


def find_runs(root: str | Path) -> list[Path]:
    """Run folders at ``root`` and up to two levels under it, the most recently changed first."""
    base = Path(str(root).strip() or ".").expanduser()
    if not base.is_dir():
        raise GstError(
            f"runs folder {str(base)!r} does not exist; give the folder that holds your run "
            "folders (`gst train` writes them under runs/)"
        )
    found = [base] if _is_run(base) else []
    found += [p for p in base.glob("*") if p.is_dir() and _is_run(p)]
    found += [p for p in base.glob("*/*") if p.is_dir() and _is_run(p)]
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)


def read_metrics(run: str | Path) -> list[dict]:
    """The complete records of ``run/metrics.jsonl`` (none when it has no such file)."""
    path = Path(run) / "metrics.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if isinstance(record, dict) and isinstance(record.get("step"), int | float):
            records.append(record)
    return records


def loss_curves(run: str | Path) -> list[tuple[float, str, float]]:
    """``(step, name, value)`` for every finite number logged: the long form a plot takes."""
    points = []
    for record in read_metrics(run):
        for name, value in record.items():
            if name in NOT_CURVES or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value):
                points.append((float(record["step"]), name, float(value)))
    return points


def latest_preview(run: str | Path) -> Path | None:
    """The newest preview grid the trainer wrote (``samples/step_NNNNNNN.png``), if any."""
    grids = sorted((Path(run) / "samples").glob("step_*.png"))
    return grids[-1] if grids else None


def run_summary(run: str | Path) -> str:
    """One line on the run: how far its log goes and which preview is shown."""
    run = Path(run)
    if not run.is_dir():
        raise GstError(f"run folder {str(run)!r} does not exist")
    records = read_metrics(run)
    parts = [str(run)]
    if records:
        parts.append(f"{len(records)} logged steps, last step {int(records[-1]['step'])}")
        errors = [r["error"] for r in records if "error" in r]
        if errors:
            parts.append(f"stopped with: {errors[-1]}")
    else:
        parts.append("no metrics.jsonl yet")
    preview = latest_preview(run)
    parts.append(f"preview {preview.name}" if preview else "no preview yet")
    return "; ".join(parts)
