"""The Sample tab's work: a grid drawn from a GAN run (:func:`gst_core.apply.sample_grid`)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gst_core.apply.sample_grid import sample_grid
from gst_core.errors import GstError
from gst_core.images import save_image
from gst_core.ui.translate import model_path
from gst_core.ui.workspace import Workspace

__all__ = ["sample_run"]


def _whole(value: object, what: str, *, minimum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GstError(f"{what} must be a whole number of at least {minimum}, got {value!r}")
    return value


def sample_run(
    workspace: Workspace,
    run: str | os.PathLike[str] | None,
    count: int = 16,
    *,
    label: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> Path:
    """``count`` images of class ``label`` (None: one row per class) as one PNG grid."""
    path = model_path(run, "a GAN run")
    count = _whole(count, "the number of images", minimum=1)
    seed = _whole(seed, "the seed", minimum=0)
    if label is not None:
        label = _whole(label, "the class", minimum=0)
    grid = sample_grid(path, count, label=label, seed=seed, device=device)
    return save_image(grid, workspace.job_folder("sample") / "samples.png")
