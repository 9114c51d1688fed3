"""Per-sample random values that do not depend on how many processes share the batch.

Part of the plugin surface: a generator's latents and a penalty's interpolation weights
are drawn through it, so a run under torchrun equals the same run in one process.
It reads torch.distributed directly, so the contract layer needs none of the training
machinery (gst_core.training.distributed re-exports it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch.distributed as dist
from torch import Tensor

__all__ = ["per_sample"]


def per_sample(batch_size: int, draw: Callable[[int], Tensor]) -> Tensor:
    """Random per-sample values for this process's ``batch_size`` rows, drawn for the global
    batch and sliced, so the values do not depend on the process count.

    ``draw(n)`` must return ``n`` rows from the global RNG (``torch.randn(n, ...)``). Every
    process draws the whole global batch and keeps its slice, which also keeps the global RNGs
    of all processes in step. Outside a distributed run this is ``draw(batch_size)``.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return draw(batch_size)
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = draw(batch_size * world)
    return rows[rank * batch_size : (rank + 1) * batch_size]
