"""``--compile`` on the apply path: ``torch.compile`` of a generator's forward, else eager.

The module itself stays as it is (its attributes, parameters and hooks are what the apply
path reads); only its ``forward`` goes through TorchInductor. Compiling happens at the first
call, for each new input shape, and on a CPU needs a C++ compiler. When there is none, or
compiling fails, the network runs eagerly and one line says why: a flag that asks for speed
should never cost the user the result. ``benchmarks/apply/bench_compile.py`` measures what
it gains.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

__all__ = [
    "CompileWarning",
    "compile_generator",
    "cpu_compiler",
    "is_compiled",
    "said_in_one_line",
]


class CompileWarning(UserWarning):
    """``--compile`` could not be used; the network runs eagerly."""


def cpu_compiler() -> str | None:
    """The C++ compiler TorchInductor would use for CPU code, or None."""
    return shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")


class _CompiledOrEager:
    """``forward`` through ``torch.compile``; on the first failure, eager from then on."""

    def __init__(self, module: nn.Module) -> None:
        self.name = type(module).__name__
        self.eager = module.forward
        self.compiled: Any = torch.compile(module.forward)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - any compile error: fall back, say so
                self.compiled = None
                reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
                warnings.warn(
                    f"--compile: torch.compile of {self.name} failed ({type(exc).__name__}: "
                    f"{reason}); running it eagerly",
                    CompileWarning,
                    stacklevel=2,
                )
        return self.eager(*args, **kwargs)


def compile_generator(module: nn.Module) -> nn.Module:
    """``module`` with its forward compiled (in place; returned for chaining), or unchanged
    with a :class:`CompileWarning` when it cannot be compiled here."""
    device = next(module.parameters(), torch.empty(0)).device
    if device.type == "cpu" and cpu_compiler() is None:
        warnings.warn(
            "--compile: no C++ compiler (g++) found, which torch.compile needs on a CPU; "
            "running eagerly (install g++, or drop --compile)",
            CompileWarning,
            stacklevel=2,
        )
        return module
    module.forward = _CompiledOrEager(module)  # type: ignore[method-assign]
    return module


def is_compiled(module: nn.Module) -> bool:
    """Whether :func:`compile_generator` already put ``module``'s forward through compile."""
    return isinstance(module.__dict__.get("forward"), _CompiledOrEager)


@contextmanager
def said_in_one_line() -> Iterator[None]:
    """Inside: a :class:`CompileWarning` prints as ``gst: warning: ...`` on stderr (a command's
    one line, not Python's file:line form); other warnings show as they would."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if issubclass(category, CompileWarning):
            print(f"gst: warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown
