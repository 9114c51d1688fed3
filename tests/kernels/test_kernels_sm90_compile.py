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


@pytest.mark.skipif(not _ptxas_available(), reason="needs triton with its bundled ptxas")
def test_kernels_compile_for_sm90() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    res = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=600
    )
    assert res.returncode == 0, res.stderr[-4000:]
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    # 2 dtypes × (3 channel counts × 3 gram variants + 2 backward configs) + 1 diff kernel
    assert len(rows) == 2 * (3 * 3 + 2) + 1
    assert {r["BLOCK_C"] for r in rows if "BLOCK_C" in r} == {128, 64, 32}
    for r in rows:
        assert 0 < r["shared"] <= SM90_MAX_SHARED or r["kernel"] == "_diff_loss_kernel", r
