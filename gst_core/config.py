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

:func:`build_components` always returns the same shape, ``{kind: {label:
module}}``: a single table is labelled with its kind, so the file above gives
``{"generator": {"generator": <module>}, "loss": {"style": <module>,
"content": <module>}}``, and :func:`single` picks the one component of a
kind. Every error names the file and section. ``[data]`` (a dataset) and
``[objective]`` (a training method's options) are read by the trainer and the
objective, not here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from gst_core.errors import GstError, SpecError
from gst_core.kinds import registry

__all__ = [
    "COMPONENT_SECTIONS",
    "build",
    "build_components",
    "build_from_toml",
    "build_section",
    "load_toml",
    "single",
    "spec_of",
]

#: The kinds whose TOML sections :func:`build_components` builds.
COMPONENT_SECTIONS = ("generator", "discriminator", "loss", "feature_extractor")
Components = dict[str, dict[str, nn.Module]]


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


def _section_specs(config: Mapping[str, Any], kind: str, source: str) -> dict[str, Mapping]:
    """``{label: spec}`` of one kind's section: ``[kind]`` or ``[kind.<label>]`` tables."""
    section = config[kind]
    if not isinstance(section, Mapping):
        raise SpecError(f"{source}: [{kind}] must be a table with a 'name' key, got {section!r}")
    if "name" in section:
        return {kind: section}
    for label, sub in section.items():
        if not isinstance(sub, Mapping):
            raise SpecError(
                f"{source}: [{kind}] has neither a 'name' key (one {kind}) nor only "
                f"sub-tables like [{kind}.<label>] (several); {label!r} is {sub!r}"
            )
    if not section:
        raise SpecError(f'{source}: [{kind}] is empty; add name = "<{kind} name>"')
    return dict(section)


def build_components(config: Mapping[str, Any], *, source: str = "<config>") -> Components:
    """Build every component section of a parsed config: ``{kind: {label: module}}``."""
    built: Components = {}
    for kind in COMPONENT_SECTIONS:
        if kind not in config:
            continue
        built[kind] = {
            label: build_section(
                kind, spec, source=source, label=kind if label == kind else f"{kind}.{label}"
            )
            for label, spec in _section_specs(config, kind, source).items()
        }
    return built


def spec_of(config: Mapping[str, Any], kind: str, label: str | None = None) -> dict[str, Any]:
    """The spec dict (``{"name": ..., **kwargs}``) of a component section, for checkpoints."""
    specs = _section_specs(config, kind, "<config>")
    return dict(specs[label if label is not None else kind])


def single(built: Components, kind: str, *, source: str = "<config>", example: str = "") -> Any:
    """The one component of ``kind`` in ``built``; an error names the section to add or fix."""
    found = built.get(kind, {})
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        hint = f", e.g.\n  [{kind}]\n  {example}" if example else ""
        raise SpecError(f"{source}: no [{kind}] section; add one{hint}")
    raise SpecError(
        f"{source}: [{kind}] names {len(found)} components ({', '.join(found)}) where one is "
        f"expected; keep a single [{kind}] table"
    )


def build_section(
    kind: str, section: Mapping[str, Any], *, source: str, label: str | None = None
) -> nn.Module:
    """One component from its TOML table; errors name the file and the section."""
    label = label or kind
    if "name" not in section:
        raise SpecError(f"{source}: [{label}] has no 'name' key; add name = \"<{kind} name>\"")
    try:
        return registry(kind).build(section)
    except GstError as exc:
        # Re-raise as the same type so callers can still catch e.g. UnknownComponentError.
        raise type(exc)(f"{source}: [{label}]: {exc}") from exc


def build_from_toml(path: str | Path) -> Components:
    """Read a TOML file and build the components it names."""
    return build_components(load_toml(path), source=str(path))
