"""Finding and reading torchvision-format VGG weights from local files.

Where the weights come from, first match wins:

1. the ``weights=`` argument (also ``--weights`` and ``weights = "..."`` in TOML);
2. the network's own environment variable, ``GST_VGG19_WEIGHTS`` or
   ``GST_VGG16_WEIGHTS`` (``GST_VGG_WEIGHTS``, the older name, is VGG19's only: one
   variable for both networks handed a VGG19 file to VGG16, issue 20);
3. torchvision's own download cache (``torch.hub.get_dir()/checkpoints/``),
   where ``torchvision.models.vgg19(weights=...)`` leaves ``vgg19-dcbb9e9d.pth``.
   The file is an ordinary state dict, so torchvision itself is not needed.

Nothing is ever downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from gst_core.errors import GstError

__all__ = [
    "ENV_VAR",
    "env_vars",
    "TORCHVISION_FILES",
    "WeightsError",
    "SOURCES",
    "find_weights",
    "read_state_dict",
    "weights_source",
]

ENV_VAR = "GST_VGG_WEIGHTS"  # VGG19's, kept from gst 0.2


def env_vars(arch: str) -> tuple[str, ...]:
    """The environment variables that name ``arch``'s weights, first match wins."""
    own = f"GST_{arch.upper()}_WEIGHTS"
    return (own, ENV_VAR) if arch == "vgg19" else (own,)


def _from_env(arch: str) -> tuple[str, str] | None:
    """``(variable, path)`` of the first of :func:`env_vars` that is set."""
    for name in env_vars(arch):
        value = os.environ.get(name, "").strip()
        if value:
            return name, value
    return None


# File names torchvision's ImageNet weights are cached under (IMAGENET1K_V1).
TORCHVISION_FILES = {"vgg16": "vgg16-397923af.pth", "vgg19": "vgg19-dcbb9e9d.pth"}


class WeightsError(GstError, ValueError):
    """A weights file is missing, unreadable, or does not fit the network."""


def torchvision_cache_file(arch: str) -> Path | None:
    """The cached torchvision checkpoint for ``arch``, if one is on disk."""
    name = TORCHVISION_FILES.get(arch)
    if name is None:
        return None
    path = Path(torch.hub.get_dir()) / "checkpoints" / name
    return path if path.is_file() else None


def find_weights(arch: str, weights: str | os.PathLike[str] | None) -> Path | None:
    """The weights file to use for ``arch`` (see the module docstring), or ``None``."""
    if weights is not None:
        return Path(weights)
    found = _from_env(arch)
    if found:
        return Path(found[1])
    return torchvision_cache_file(arch)


# Where a weights path came from (find_weights' order), for read_state_dict's messages.
SOURCES = {
    "argument": "given by --weights or weights=",
    "env": f"set by {ENV_VAR}",
    "cache": "found in torchvision's cache",
}


def weights_source(weights: str | os.PathLike[str] | None, arch: str = "vgg19") -> str:
    """Which of :data:`SOURCES` :func:`find_weights` takes its path from (``env:NAME`` for
    a variable other than ``GST_VGG_WEIGHTS``)."""
    if weights is not None:
        return "argument"
    found = _from_env(arch)
    if found is None:
        return "cache"
    return "env" if found[0] == ENV_VAR else f"env:{found[0]}"


def read_state_dict(
    path: str | os.PathLike[str], *, source: str | None = None
) -> dict[str, Tensor]:
    """Read a ``.pth``/``.pt`` (``torch.load(weights_only=True)``) or ``.safetensors`` file.

    ``source`` (a key of :data:`SOURCES`) says where ``path`` came from, so a
    missing file's message points at the setting to fix.
    """
    path = Path(path)
    if not path.is_file():
        variable = (source or "").removeprefix("env:") if (source or "").startswith("env:") else ""
        origin = f"set by {variable}" if variable else SOURCES.get(source or "")
        # Without a known source, name both settings rather than guess one of them.
        where = f" ({origin})" if origin else ""
        fix = {
            "argument": "fix the --weights / weights= path",
            "env": f"fix or unset {ENV_VAR}",
        }.get(source or "", f"check --weights / weights= and {ENV_VAR}")
        fix = f"fix or unset {variable}" if variable else fix
        raise WeightsError(
            f"weights file {str(path)!r}{where} does not exist; {fix} (a torchvision VGG "
            "state dict (.pth) or a .safetensors file)"
        )
    try:
        if path.suffix.lower() == ".safetensors":
            try:
                from safetensors.torch import load_file
            except ImportError as exc:
                raise WeightsError(
                    f"{str(path)!r} is a safetensors file but the 'safetensors' package is not "
                    "installed; pip install safetensors"
                ) from exc
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except Exception as exc:
        # torch's first sentence only: the rest of its UnpicklingError text advises
        # weights_only=False, which is wrong (and unsafe) advice for a damaged file.
        reason = str(exc).split(". ")[0].splitlines()[0] if str(exc) else ""
        raise WeightsError(
            f"cannot read weights file {str(path)!r} ({type(exc).__name__}: {reason}); "
            "expected a torchvision VGG state dict saved with torch.save, or a .safetensors file"
        ) from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a training checkpoint wrapping the state dict
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightsError(
            f"{str(path)!r} does not hold a state dict (a mapping of names to tensors); "
            f"got {type(state).__name__}"
        )
    return state
