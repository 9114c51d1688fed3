"""Draw a grid of images from a GAN (noise-to-image) generator: ``gst sample`` in Python.

Three lines::

    from gst_core.apply.sample_grid import sample_grid
    from gst_core.images import save_image
    save_image(sample_grid("runs/gan-...", 16, seed=3), "grid.png")

Shared by ``gst sample`` and ``gst ui``'s Sample tab.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from gst_core.apply.network_source import open_networks
from gst_core.checkpoint import CheckpointError
from gst_core.images import make_grid
from gst_core.runtime.option_checks import check_option

__all__ = ["sample_grid"]


def sample_grid(
    checkpoint: str | os.PathLike[str] | Mapping[str, Any],
    count: int = 64,
    *,
    label: int | None = None,
    seed: int = 0,
    nrow: int | None = None,
    ema: bool = True,
    device: str | torch.device = "cpu",
) -> Tensor:
    """``count`` images from the generator of a gan checkpoint, run folder or model folder, as
    one ``(3, H, W)`` grid in ``[0, 1]``. A class-conditional generator draws class ``label``,
    or one row per class when ``label`` is None; ``seed`` fixes the noise."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise CheckpointError(f"-n must be at least 1, got {count}")
    check_option(nrow, "an integer", "--nrow", source="gst sample", minimum=1, optional=True)
    source = open_networks(checkpoint, device=device)
    where = source.where if isinstance(checkpoint, Mapping) else str(checkpoint)
    translate_instead = (
        f"{where} is a {source.objective!r} checkpoint whose generator maps "
        "images to images; gst sample draws from noise-to-image generators (a gan run). Apply "
        f"it to images with: gst translate {where} IMAGE... -o OUTDIR"
    )
    if "generator" not in source.names:
        raise CheckpointError(translate_instead)
    generator = source.load("generator", ema=ema, device=device)
    if generator.input_kind != "latent":
        raise CheckpointError(translate_instead)
    classes = generator.num_classes
    if label is not None and not classes:
        raise CheckpointError("--label needs a class-conditional generator; this one is not")
    if label is not None and not 0 <= label < classes:
        raise CheckpointError(f"--label must lie in 0..{classes - 1}, got {label}")
    rng = torch.Generator(device=device).manual_seed(seed)
    labels = None
    if label is not None:
        labels = torch.full((count,), label, dtype=torch.long, device=device)
    elif classes:
        nrow = nrow or max(1, math.ceil(count / classes))
        labels = (torch.arange(count, device=device) // nrow) % classes
    with torch.no_grad():
        images = generator(generator.sample_latent(count, generator=rng), labels)
    return make_grid((images.cpu() + 1) / 2, nrow=nrow)
