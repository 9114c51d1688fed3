"""Shared pieces of the feed-forward style benchmarks: a minimal step context and evaluation."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import torch
from torch import Tensor, nn


class Context:
    """The StepContext an objective needs, for a plain loop with one Adam per group."""

    def __init__(self, networks: Mapping[str, nn.Module], groups: Mapping[str, list[str]], lr):
        self.step = 0
        self.device = torch.device("cpu")
        lrs = lr if isinstance(lr, Mapping) else dict.fromkeys(groups, lr)
        self.optimizers = {
            g: torch.optim.Adam(
                [p for n in names for p in networks[n].parameters()], lr=lrs[g], betas=(0.5, 0.999)
            )
            for g, names in groups.items()
        }

    def autocast(self):
        return contextlib.nullcontext()

    def optimize(self, group: str, loss: Tensor) -> None:
        opt = self.optimizers[group]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def next_batch(self):  # pragma: no cover - not used by these objectives
        raise NotImplementedError


def strip(rows: list[Tensor], path) -> None:
    """Rows of images in [0, 1] as one PNG grid (each row the same count)."""
    from gst_core.images import make_grid, save_image

    images = torch.cat(rows)
    save_image(make_grid(images, nrow=len(rows[0]), padding=2), path)
