"""The Triton kernels compile for an H100 (sm_90) exactly as the launchers configure them.

No GPU needed: Triton lowers to PTX and assembles it with the ptxas in its
wheel. This catches what the interpreter cannot: type and layout errors in
the real lowering, tl.dot shape limits, and shared memory beyond the device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_helpers import HAS_TRITON

SCRIPT = Path(__file__).with_name("sm90_compile.py")
SM90_MAX_SHARED = 227 * 1024  # bytes of shared memory one block may use on H100


def _ptxas_available() -> bool:
    if not HAS_TRITON:
        return False
    import importlib.util

    spec = importlib.util.find_spec("triton")
    root = Path(spec.origin).parent  # type: ignore[arg-type]
    return (root / "backends/nvidia/bin/ptxas").exists()


@pytest.fixture(scope="module")
def sm90_rows() -> list[dict]:
    if not _ptxas_available():
        pytest.skip("needs triton with its bundled ptxas")
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    res = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=600
    )
    assert res.returncode == 0, res.stderr[-4000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def test_kernels_compile_for_sm90(sm90_rows) -> None:
    rows = sm90_rows
    assert {r["BLOCK_C"] for r in rows if "BLOCK_C" in r} == {128, 64, 32}
    for r in rows:
        assert 0 < r["shared"] <= SM90_MAX_SHARED or r["kernel"] == "_combine_kernel", r


def test_every_dtype_and_precision_path_compiles_without_spills(sm90_rows) -> None:
    """The default fp32 path is IEEE (torch's tf32 flag is off by default): it must not
    spill either. A non-zero stack is ptxas spilling registers to local memory."""
    paths = {(r["kernel"], p["dtype"], p["allow_tf32"]) for r in sm90_rows for p in r["paths"]}
    for kernel in ("_gram_kernel", "_sym_matmul_kernel"):
        for dtype in ("float32", "float16", "bfloat16"):
            for tf32 in (False, True):
                assert (kernel, dtype, tf32) in paths
    assert {r["INPUT_PRECISION"] for r in sm90_rows if r["kernel"] == "_gram_kernel"} == {
        "ieee",
        "tf32",
    }
    assert all("stack" in r for r in sm90_rows)  # cuobjdump ships with ptxas in the wheel
    assert [r for r in sm90_rows if r["stack"] != 0] == []


def test_half_precision_backward_uses_tensor_cores(sm90_rows) -> None:
    """fp16/bf16 F is exact in tf32: the backward product takes tf32 tensor cores (with S
    split in two tf32 terms when tf32 is not allowed), never the IEEE FMA path."""
    for r in sm90_rows:
        if r["kernel"] == "_sym_matmul_kernel":
            for p in r["paths"]:
                if p["dtype"] != "float32":
                    assert r["INPUT_PRECISION"] == "tf32", r
                    assert r["SPLIT_S"] == (not p["allow_tf32"]), r
                    assert r["tensor_cores"], r  # wgmma/mma in the PTX
                elif not p["allow_tf32"]:
                    assert not r["tensor_cores"], r  # IEEE fp32: CUDA-core FMAs


def test_64_bit_offsets_survive_compilation(sm90_rows) -> None:
    """With INT64 the feature (and gradient) addresses keep 64-bit offsets after Triton's
    passes; without it they stay 32-bit (cheaper, and enough below 2³¹ elements a sample)."""
    checked = 0
    for r in sm90_rows:
        if "f_offsets" in r:
            assert r["f_offsets"] == (["i64"] if r["INT64"] else ["i32"]), r
            checked += r["INT64"]
    assert checked >= 4  # Gram and backward, fp16 and bf16
