"""Which implementation of an optimiser's update the trainer runs: fused where torch has one.

``torch.optim.Adam`` on a CPU runs its update as a Python loop over the
parameters, about ten tensor passes each. Its ``fused=True`` kernel does the
same math in one pass: on this project's 2-core CPU, 0.37 s against 1.34 s per
step for pix2pix's 57 M parameters (``benchmarks/gan/bench_optimizer.py``). So
the trainer asks for the fused update wherever the class offers one (Adam,
AdamW, SGD, Adagrad) on a CPU, unless the run sets ``fused`` or
``foreach`` itself: ``fused = false`` in ``[train.optimizer]`` gives torch's
default loop, identical to plain-PyTorch reference code bit for bit (fused
rounds differently, within float32 rounding of it).

The implementation is not a hyper-parameter: it is not written into the run's
config, and a checkpoint made either way resumes the other way (the state has
the same tensors); :func:`set_implementation` puts this run's choice back after
``load_state_dict`` restored the checkpoint's.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["describe", "implementation_kwargs", "set_implementation"]

# Where the fused update was measured faster than torch's default. CUDA is not in it: no
# GPU run has measured it (torch's CUDA default is already ``foreach``), so CUDA keeps it.
_FUSED_DEVICES = {"cpu"}


def implementation_kwargs(
    cls: type[torch.optim.Optimizer], spec: Mapping[str, Any], device: torch.device
) -> dict[str, Any]:
    """``{"fused": True}`` where ``cls`` has a fused update for ``device`` and ``spec``
    chose no implementation; else nothing (torch's default)."""
    if "fused" in spec or "foreach" in spec or device.type not in _FUSED_DEVICES:
        return {}
    if "fused" not in inspect.signature(cls).parameters:
        return {}
    return {"fused": True}


def describe(optimizers: Mapping[str, torch.optim.Optimizer]) -> str:
    """``"generator: Adam (fused)"``, one entry per optimiser, for the run's log line."""

    def how(opt: torch.optim.Optimizer) -> str:
        group = opt.param_groups[0]
        if group.get("fused"):
            return "fused"
        return "foreach" if group.get("foreach") else "loop"

    return ", ".join(f"{name}: {type(o).__name__} ({how(o)})" for name, o in optimizers.items())


def set_implementation(optimizer: torch.optim.Optimizer) -> None:
    """After ``load_state_dict`` (which restores the saved groups' ``fused``/``foreach``),
    run this run's implementation again."""
    for key in ("fused", "foreach"):
        if key in optimizer.defaults:
            for group in optimizer.param_groups:
                group[key] = optimizer.defaults[key]  # what this run was built with
