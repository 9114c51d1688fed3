"""Building components from spec dicts and TOML files.

A TOML file names its components in sections keyed by kind::

    [generator]               # one component: a table with a "name"
    name = "dcgan"
    latent_dim = 64

    [loss.style]              # several of a kind: one sub-table per label
    name = "style"
    [loss.content]
    name = "content"

    [train]                   # any other section is a pipeline's options,
    steps = 1000              # left untouched here

:func:`build_components` returns ``{"generator": <module>, "loss": {"style":
<module>, "content": <module>}}``. Every error names the file and section.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from gst_core.errors import GstError, SpecError
from gst_core.kinds import KINDS, registry

__all__ = ["build", "build_components", "build_from_toml", "load_toml"]


def build(kind: str, spec: str | Mapping[str, Any], /, **kwargs: Any) -> nn.Module:
    """Build one component of ``kind`` from a name or spec dict (see :meth:`Registry.build`)."""
    return registry(kind).build(spec, **kwargs)


def load_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file, naming the file (and the position) when it is malformed."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"config file {str(path)!r} is not valid TOML: {exc}") from exc


def build_components(
    config: Mapping[str, Any], *, source: str = "<config>"
) -> dict[str, nn.Module | dict[str, nn.Module]]:
    """Build every component section of a parsed config (see the module docstring)."""
    built: dict[str, nn.Module | dict[str, nn.Module]] = {}
    for kind in KINDS:
        if kind not in config:
            continue
        section = config[kind]
        if not isinstance(section, Mapping):
            raise SpecError(
                f"{source}: [{kind}] must be a table with a 'name' key, got {section!r}"
            )
        if "name" in section:
            built[kind] = _build_section(kind, section, source=source, label=kind)
            continue
        labelled = {}
        for label, sub in section.items():
            if not isinstance(sub, Mapping):
                raise SpecError(
                    f"{source}: [{kind}] has neither a 'name' key (one {kind}) nor only "
                    f"sub-tables like [{kind}.<label>] (several); {label!r} is {sub!r}"
                )
            labelled[label] = _build_section(kind, sub, source=source, label=f"{kind}.{label}")
        if not labelled:
            raise SpecError(f'{source}: [{kind}] is empty; add name = "<{kind} name>"')
        built[kind] = labelled
    return built


def _build_section(kind: str, section: Mapping[str, Any], *, source: str, label: str) -> nn.Module:
    if "name" not in section:
        raise SpecError(f"{source}: [{label}] has no 'name' key; add name = \"<{kind} name>\"")
    try:
        return registry(kind).build(section)
    except GstError as exc:
        # Re-raise as the same type so callers can still catch e.g. UnknownComponentError.
        raise type(exc)(f"{source}: [{label}]: {exc}") from exc


def build_from_toml(path: str | Path) -> dict[str, nn.Module | dict[str, nn.Module]]:
    """Read a TOML file and build the components it names."""
    return build_components(load_toml(path), source=str(path))
