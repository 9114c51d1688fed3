"""Checking option values where they enter (TOML tables, flags), in one message style.

TOML and the command line hand over values of any type: a string where a
number belongs, a bool (which Python would take as 0 or 1), a string where a
list of file names belongs (which would be iterated character by character).
Every entry point checks its options here, so the message is always
``<source>: <name> must be <what>, got <value> (<type>)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gst_core.errors import GstError

__all__ = ["OptionError", "check_option", "resolve_device"]


class OptionError(GstError, ValueError):
    """An option has the wrong type or is out of range."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


_KINDS: dict[str, Callable[[Any], bool]] = {
    "an integer": _is_int,
    "a number": _is_number,
    "a string": lambda v: isinstance(v, str),
    "true or false": lambda v: isinstance(v, bool),
    "a list of file names": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "a list of numbers": lambda v: isinstance(v, list | tuple) and all(map(_is_number, v)),
}


def check_option(
    value: Any,
    kind: str,
    name: str,
    *,
    source: str,
    minimum: float | None = None,
    optional: bool = False,
) -> Any:
    """``value`` if it is of ``kind`` (a key of the table above) and ≥ ``minimum``; else an
    :class:`OptionError`. ``optional`` lets ``None`` through."""
    if value is None and optional:
        return value
    if not _KINDS[kind](value):
        raise OptionError(
            f"{source}: {name} must be {kind}, got {value!r} ({type(value).__name__})"
        )
    if minimum is not None and value < minimum:
        raise OptionError(f"{source}: {name} must be at least {minimum}, got {value!r}")
    return value


def resolve_device(text: Any, *, what: str = "--device") -> torch.device:
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda``, ``cuda:1``, ``mps``, checked to
    exist here, not found missing at the first tensor (or reported as a corrupt file)."""
    if not isinstance(text, str | torch.device):
        raise OptionError(f"{what} must be a device name such as cpu or cuda, got {text!r}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError, TypeError):
        raise OptionError(
            f"{what} {text!r} is not a device; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise OptionError(f"{what} {text!r}, but torch sees no CUDA GPU; use --device cpu")
        if device.index is not None and device.index >= count:
            raise OptionError(
                f"{what} {text!r}, but torch sees {count} CUDA GPU(s): cuda:0..cuda:{count - 1}"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise OptionError(f"{what} {text!r}, but MPS is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise OptionError(f"{what} {text!r}: gst runs on cpu, cuda or mps")
    return device
