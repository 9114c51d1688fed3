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

An objective's ``from_config`` builds each of its networks with
:func:`component` (one section, a default when the config has none, and the
spec to record in checkpoints), labelled sections such as ``[loss.<label>]``
with :func:`components`, and reads ``[objective]`` with :func:`options`.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from torch import nn

from gst_core.errors import GstError, SpecError, TrainingSetupError
from gst_core.kinds import registry

__all__ = [
    "COMPONENT_SECTIONS",
    "build",
    "build_components",
    "build_from_toml",
    "component",
    "components",
    "construct",
    "load_toml",
    "options",
    "single",
]

#: The kinds whose TOML sections :func:`build_components` builds.
COMPONENT_SECTIONS = ("generator", "discriminator", "loss", "feature_extractor")
Components = dict[str, dict[str, nn.Module]]
T = TypeVar("T")


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
    return {kind: components(config, kind, source) for kind in COMPONENT_SECTIONS if kind in config}


def components(config: Mapping[str, Any], kind: str, source: str = "<config>") -> dict[str, Any]:
    """``{label: module}`` of one kind's section (``[kind]``, labelled ``kind``, or
    ``[kind.<label>]`` tables); ``{}`` when the config has none."""
    if kind not in config:
        return {}
    return {
        label: _build(kind, spec, source, kind if label == kind else f"{kind}.{label}")
        for label, spec in _section_specs(config, kind, source).items()
    }


SpecDefault = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None


def component(
    config: Mapping[str, Any],
    kind: str,
    default: SpecDefault = None,
    source: str = "<config>",
    *,
    fill: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The one ``[kind]`` component of ``config`` and its spec ``{"name": ..., **kwargs}``.

    Without a ``[kind]`` table, ``default`` is built: a spec, or a function returning one
    (called only then, e.g. to look for weights); ``None`` makes the table required.
    ``fill`` supplies keyword arguments the table leaves out (pix2pix: the discriminator's
    channels from the generator's). The spec returned is what was built, to record in
    :attr:`~gst_core.interfaces.Objective.network_specs`. Errors name the file and section.
    """
    if kind in config:
        specs = _section_specs(config, kind, source)
        if len(specs) != 1:
            raise SpecError(
                f"{source}: [{kind}] names {len(specs)} components ({', '.join(specs)}) where "
                f"one is expected; keep a single [{kind}] table"
            )
        label, section = next(iter(specs.items()))
        label = kind if label == kind else f"{kind}.{label}"
        spec = dict(section)
    elif default is None:
        raise SpecError(
            f'{source}: no [{kind}] section; add one, e.g.\n  [{kind}]\n  name = "<{kind} name>"'
            f"\n(`gst plugins list --kind {kind}` lists them)"
        )
    else:
        label, spec = kind, dict(default() if callable(default) else default)
    for key, value in (fill or {}).items():
        spec.setdefault(key, value)
    return _build(kind, spec, source, label), spec


def options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[objective]`` table's options (its ``name``, if any, left out)."""
    return {k: v for k, v in dict(config.get("objective", {})).items() if k != "name"}


def construct(cls: Callable[..., T], *parts: Any, options: Mapping[str, Any], source: str) -> T:
    """``cls(*parts, **options)``; options it does not take are an error naming
    ``[objective]`` and the ones it does."""
    try:
        return cls(*parts, **options)
    except TypeError as exc:
        params = inspect.signature(cls).parameters.values()
        takes = ", ".join(p.name for p in params if p.kind is p.KEYWORD_ONLY) or "no options"
        name = getattr(cls, "name", getattr(cls, "__name__", "the objective"))
        raise TrainingSetupError(f"{source}: [objective]: {exc} ({name} takes {takes})") from exc


def single(built: Components, kind: str, *, source: str = "<config>", example: str = "") -> Any:
    """The one component of ``kind`` in ``built`` (from :func:`build_components`); an error
    names the section to add or fix."""
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


def _build(kind: str, section: Mapping[str, Any], source: str, label: str) -> nn.Module:
    """One component from its TOML table; errors name the file and the section."""
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
