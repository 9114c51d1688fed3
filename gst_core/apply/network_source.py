"""One way in for every command that applies a trained network: a checkpoint file, a run
folder (its ``checkpoints/last.pt``) or a published model folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gst_core.apply.model_folder import (
    ModelFolderError,
    is_hub_name,
    is_model_folder,
    load_pretrained,
)
from gst_core.checkpoint import load_checkpoint, load_network

__all__ = ["NetworkSource", "open_networks"]


@dataclass
class NetworkSource:
    """The networks a source holds, loaded one at a time by name."""

    names: set[str]
    objective: str | None
    where: str
    _state: Mapping[str, Any] | None = None
    _built: Mapping[str, nn.Module] | None = None

    @property
    def state(self) -> Mapping[str, Any] | None:
        """The loaded checkpoint, or None for a model folder."""
        return self._state

    def load(self, name: str, *, ema: bool = True, device: str | torch.device = "cpu") -> nn.Module:
        """Network ``name`` in eval mode (a model folder holds one set of weights: ``ema`` is
        what was chosen when it was published)."""
        if self._built is not None:
            if name not in self._built:
                held = ", ".join(sorted(self._built))
                raise ModelFolderError(f"{self.where} has no network {name!r}; it holds {held}")
            return self._built[name].to(device).eval()
        assert self._state is not None
        return load_network(self._state, name, ema=ema, device=device)


def open_networks(
    source: str | os.PathLike[str] | Mapping[str, Any], *, device: str | torch.device = "cpu"
) -> NetworkSource:
    """A checkpoint state, checkpoint file, run folder or model folder as a NetworkSource."""
    if not isinstance(source, Mapping) and (is_model_folder(source) or is_hub_name(source)):
        built = load_pretrained(source, device=device)
        return NetworkSource(set(built), built.config.get("objective"), built.where, None, built)
    state = source if isinstance(source, Mapping) else load_checkpoint(source, map_location=device)
    return NetworkSource(
        set(state.get("networks", {})),
        state.get("objective"),
        str(state.get("path", "the checkpoint")),
        state,
    )
