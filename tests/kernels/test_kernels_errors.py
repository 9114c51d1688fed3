"""Bad input raises exceptions whose message names the argument, what was given and what is expected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from kernel_helpers import HAS_TRITON

from gst_kernels import (
    KernelDtypeError,
    KernelInputError,
    gram,
    multi_style_loss,
    style_loss,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shape", [(5, 5), (1, 2, 3, 4, 5)])
def test_wrong_rank(shape) -> None:
    with pytest.raises(
        KernelInputError, match=r"features must have shape \(B, C, H, W\) or \(B, C, N\); got"
    ):
        gram(torch.randn(*shape))
    assert issubclass(KernelInputError, ValueError)


def test_empty_features() -> None:
    with pytest.raises(KernelInputError, match=r"at least one .*got shape \(1, 3, 0, 4\)"):
        gram(torch.randn(1, 3, 0, 4))


def test_integer_dtype() -> None:
    with pytest.raises(
        KernelDtypeError, match=r"features must be a floating-point tensor .* got dtype torch.int64"
    ):
        gram(torch.ones(1, 2, 3, dtype=torch.long))
    with pytest.raises(
        TypeError, match=r"target_gram must be a floating-point tensor; got dtype torch.int32"
    ):
        style_loss(torch.randn(1, 2, 3), torch.ones(2, 2, dtype=torch.int32))


def test_not_a_tensor() -> None:
    with pytest.raises(KernelInputError, match=r"features must be a torch.Tensor .* got list"):
        gram([[1.0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3), (3, 3, 3, 1)])
def test_mismatched_target(shape) -> None:
    with pytest.raises(
        KernelInputError,
        match=r"target_gram must have shape \(3, 3\) or \(1, 3, 3\) .* 1 sample\(s\) and 3 channels; got",
    ):
        style_loss(torch.randn(1, 3, 4, 4), torch.randn(*shape))


def test_unknown_backend() -> None:
    with pytest.raises(
        KernelInputError, match=r"backend='cuda' is not a known backend; expected one of 'auto'"
    ):
        gram(torch.randn(1, 2, 3), backend="cuda")


def test_bad_allow_tf32() -> None:
    if not HAS_TRITON:
        pytest.skip("allow_tf32 is only read on the triton backend")
    with pytest.raises(
        KernelInputError, match=r"allow_tf32 must be True, False or None; got 'yes'"
    ):
        gram(torch.randn(1, 16, 16), backend="triton", allow_tf32="yes")  # type: ignore[arg-type]


def test_float64_on_triton() -> None:
    if not HAS_TRITON:
        pytest.skip("triton is not installed")
    with pytest.raises(
        KernelDtypeError, match=r"backend='triton' got features of dtype torch.float64"
    ):
        gram(torch.randn(1, 2, 3, dtype=torch.float64), backend="triton")


def test_multi_style_loss_errors() -> None:
    x, t = torch.randn(1, 3, 4), torch.randn(3, 3)
    with pytest.raises(KernelInputError, match=r"got 1 targets for 2 feature maps"):
        multi_style_loss([x, x], [t])
    with pytest.raises(KernelInputError, match=r"got 1 weights for 2 layers"):
        multi_style_loss([x, x], [t, t], [1.0])
    with pytest.raises(KernelInputError, match=r"at least one layer"):
        multi_style_loss([], [])
    with pytest.raises(KernelInputError, match=r"sequences .* got a single tensor"):
        multi_style_loss(x, [t])  # type: ignore[arg-type]
    with pytest.raises(KernelInputError, match=r"targets\[1\] must have shape \(3, 3\)"):
        multi_style_loss([x, x], [t, torch.randn(4, 4)])
    with pytest.raises(KernelInputError, match=r"weights must be finite"):
        multi_style_loss([x], [t], [float("nan")])


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    full_env.update(env, PYTHONPATH=os.pathsep.join([str(ROOT), full_env.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_triton_on_cpu_without_interpreter_says_how() -> None:
    # a fresh process: this one has TRITON_INTERPRET=1 set by conftest
    code = (
        "import torch, gst_kernels\n"
        "try:\n"
        "    gst_kernels.gram(torch.randn(1, 16, 16), backend='triton')\n"
        "except ValueError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    out = _run(code).stdout
    if HAS_TRITON:
        assert out.startswith("BackendUnavailableError")
        assert "TRITON_INTERPRET=1" in out and "backend='torch'" in out and "device 'cpu'" in out
    else:
        assert "needs the 'triton' package" in out


def test_import_without_triton() -> None:
    # sys.modules[name] = None makes `import triton` raise ImportError
    code = (
        "import sys; sys.modules['triton'] = None\n"
        "import importlib.util as u; u.find_spec = lambda name, *a: None if name == 'triton' else orig(name, *a)\n"
        "import torch, gst_kernels\n"
        "x = torch.randn(1, 3, 4)\n"
        "print(float(gst_kernels.style_loss(x, torch.zeros(3, 3))) > 0)\n"
        "try:\n"
        "    gst_kernels.gram(x, backend='triton')\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    code = "import importlib.util; orig = importlib.util.find_spec\n" + code
    res = _run(code)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "True"
    assert "needs the 'triton' package, which is not installed" in lines[1]


def test_backend_resolution() -> None:
    from gst_kernels.backend import resolve_backend

    cpu32, cpu64 = torch.zeros(1), torch.zeros(1, dtype=torch.float64)
    assert resolve_backend("auto", cpu32) == "torch"  # CPU tensors never pick Triton by themselves
    assert resolve_backend("torch", cpu32) == "torch"
    if HAS_TRITON and os.environ.get("TRITON_INTERPRET") == "1":
        assert resolve_backend("triton", cpu32) == "triton"  # the interpreter runs it
    if torch.cuda.is_available():
        assert resolve_backend("auto", cpu32.cuda()) == ("triton" if HAS_TRITON else "torch")
        assert resolve_backend("auto", cpu64.cuda()) == "torch"  # no float64 kernels
