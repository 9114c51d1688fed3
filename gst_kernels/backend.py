"""Input validation and backend selection shared by every op.

Every public op calls :func:`prepare_features` / :func:`prepare_target` and
:func:`resolve_backend`, so the error messages are the same everywhere: they
name the argument, what was given and what is expected.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Literal

import torch

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "KernelDtypeError",
    "KernelInputError",
    "interpreter_enabled",
    "prepare_features",
    "prepare_target",
    "resolve_backend",
    "resolve_tf32",
    "triton_available",
]

Backend = Literal["auto", "triton", "torch"]
_BACKENDS = ("auto", "triton", "torch")
# Dtypes the features may have. float64 is accepted by the torch backend only
# (it is what gradcheck needs); tl.dot has no float64 path worth having.
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
TRITON_DTYPES = (torch.float16, torch.bfloat16, torch.float32)


class KernelInputError(ValueError):
    """A tensor argument has the wrong rank, shape, device, or an unknown option was given."""


class KernelDtypeError(TypeError):
    """A tensor argument has a dtype the op cannot take."""


class BackendUnavailableError(RuntimeError, ValueError):
    """The requested backend cannot run on this input or in this environment.

    A ``ValueError`` too, so callers that validate arguments catch it.
    """


def triton_available() -> bool:
    """Whether ``import triton`` would succeed (without importing it)."""
    return importlib.util.find_spec("triton") is not None


def interpreter_enabled() -> bool:
    """Whether Triton's CPU interpreter is switched on (``TRITON_INTERPRET=1``).

    Triton reads the variable when a kernel is decorated, so it has to be set
    before the first import of the kernels (in practice: before ``import triton``).
    """
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "on", "yes")


def resolve_backend(backend: str, tensor: torch.Tensor, *, name: str = "features") -> str:
    """Map ``"auto" | "triton" | "torch"`` to the backend that runs: ``"triton"`` or ``"torch"``."""
    if backend not in _BACKENDS:
        raise KernelInputError(
            f"backend={backend!r} is not a known backend; "
            f"expected one of {', '.join(map(repr, _BACKENDS))}"
        )
    if backend == "torch":
        return "torch"
    on_cuda = tensor.device.type == "cuda"
    if backend == "auto":
        ok = on_cuda and tensor.dtype in TRITON_DTYPES and triton_available()
        return "triton" if ok else "torch"
    # backend == "triton": say exactly why it cannot run.
    if not triton_available():
        raise BackendUnavailableError(
            "backend='triton' needs the 'triton' package, which is not installed; "
            "install it (Linux x86-64: pip install triton) or use backend='torch'"
        )
    if tensor.dtype not in TRITON_DTYPES:
        raise KernelDtypeError(
            f"backend='triton' got {name} of dtype {tensor.dtype}; it takes float32, float16 or "
            "bfloat16 (use backend='torch' for float64)"
        )
    if not on_cuda and not interpreter_enabled():
        raise BackendUnavailableError(
            f"backend='triton' got {name} on device '{tensor.device}'; Triton kernels need a CUDA "
            "tensor, or Triton's CPU interpreter: set the environment variable TRITON_INTERPRET=1 "
            "before triton is first imported (slow, for testing), or use backend='torch'"
        )
    return "triton"


def resolve_tf32(allow_tf32: bool | None) -> bool:
    """``None`` follows ``torch.backends.cuda.matmul.allow_tf32``, like torch.mm does."""
    if allow_tf32 is None:
        return bool(torch.backends.cuda.matmul.allow_tf32)
    if not isinstance(allow_tf32, bool):
        raise KernelInputError(f"allow_tf32 must be True, False or None; got {allow_tf32!r}")
    return allow_tf32


def prepare_features(features: torch.Tensor, *, name: str = "features") -> torch.Tensor:
    """Check ``features`` and return it as ``(B, C, N)`` (a view whenever the strides allow)."""
    if not isinstance(features, torch.Tensor):
        raise KernelInputError(
            f"{name} must be a torch.Tensor of shape (B, C, H, W) or (B, C, N); "
            f"got {type(features).__name__}"
        )
    if features.dim() not in (3, 4):
        raise KernelInputError(
            f"{name} must have shape (B, C, H, W) or (B, C, N); got {features.dim()} dimensions "
            f"with shape {tuple(features.shape)} "
            "(add a batch dimension with .unsqueeze(0) for one image)"
        )
    if features.dtype not in _FLOAT_DTYPES:
        raise KernelDtypeError(
            f"{name} must be a floating-point tensor (float32, float16, bfloat16 or float64); "
            f"got dtype {features.dtype}"
        )
    b, c = features.shape[:2]
    n = features[0, 0].numel() if b and c else int(torch.Size(features.shape[2:]).numel())
    if b == 0 or c == 0 or n == 0:
        raise KernelInputError(
            f"{name} must have at least one sample, one channel and one spatial position; "
            f"got shape {tuple(features.shape)}"
        )
    # reshape is a view for contiguous and channels-last tensors, a copy only for
    # strides that cannot merge H and W (e.g. x[..., ::2]).
    return features.reshape(b, c, n)


def prepare_target(
    target: torch.Tensor,
    batch: int,
    channels: int,
    device: torch.device,
    *,
    name: str = "target_gram",
) -> torch.Tensor:
    """Check a target Gram and return it as ``(C, C)`` or ``(B, C, C)`` (unchanged dtype)."""
    if not isinstance(target, torch.Tensor):
        raise KernelInputError(
            f"{name} must be a torch.Tensor of shape ({channels}, {channels}) or "
            f"({batch}, {channels}, {channels}); got {type(target).__name__}"
        )
    ok_shapes = ((channels, channels), (batch, channels, channels))
    if tuple(target.shape) not in ok_shapes:
        raise KernelInputError(
            f"{name} must have shape ({channels}, {channels}) or ({batch}, {channels}, {channels}) "
            f"to match features with {batch} sample(s) and {channels} channels; "
            f"got {tuple(target.shape)}"
        )
    if target.dtype not in _FLOAT_DTYPES:
        raise KernelDtypeError(f"{name} must be a floating-point tensor; got dtype {target.dtype}")
    if target.device != device:
        raise KernelInputError(
            f"{name} is on device '{target.device}' but the features are on '{device}'; "
            "move it with .to(features.device)"
        )
    return target


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for every input dtype except float64, which stays float64."""
    return torch.float64 if dtype == torch.float64 else torch.float32
