"""Compile every Triton kernel, as the launchers configure it, for an H100 (sm_90).

Run as a script in a process without TRITON_INTERPRET (the interpreter
replaces the kernels): ``python tests/kernels/sm90_compile.py``. Needs no GPU:
Triton lowers to PTX and runs the ptxas bundled in its wheel. Prints one JSON
line per kernel variant with its shared memory and ptxas resource usage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.pop("TRITON_INTERPRET", None)
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
import triton  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

from gst_kernels import triton_impl as ti  # noqa: E402

TARGET = GPUTarget("cuda", 90, 32)
PTR = {torch.float32: "*fp32", torch.float16: "*fp16", torch.bfloat16: "*bf16"}
FLOAT_ARGS = {"scale", "loss_weight"}
CUOBJDUMP = Path(triton.__file__).parent / "backends/nvidia/bin/cuobjdump"


def _usage(kernel) -> str:
    if not CUOBJDUMP.exists():
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".cubin", delete=False) as fh:
        fh.write(kernel.asm["cubin"])
    out = subprocess.run(
        [str(CUOBJDUMP), "--dump-resource-usage", fh.name], capture_output=True, text=True
    ).stdout
    os.unlink(fh.name)
    return " ".join(line.split("SHARED")[0].strip() for line in out.splitlines() if "REG:" in line)


def compile_one(fn, signature: dict[str, str], consts: dict, num_warps: int, num_stages: int):
    """Compile as the JIT would for contiguous, 16-byte-aligned VGG-shaped inputs.

    Like ``@triton.jit`` at launch: an int argument equal to 1 (the innermost
    stride) becomes a constant, and pointers and ints that are multiples of 16
    carry ``tt.divisibility``; without that, loads cannot be vectorised and
    16-bit inputs are not pipelined.
    """
    consts = dict(consts)
    for name in ("stride_fn",):
        if name in signature:
            consts[name] = 1
    sig = dict(signature, **{k: "constexpr" for k in consts})
    names = list(sig)
    aligned = [n for n, t in signature.items() if n not in consts and n not in FLOAT_ARGS]
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in aligned}
    kernel = triton.compile(
        ASTSource(fn=fn, signature=sig, constexprs=consts, attrs=attrs),
        target=TARGET,
        options={"num_warps": num_warps, "num_stages": num_stages},
    )
    info = {"kernel": fn.__name__, **consts, "num_warps": num_warps}
    info.update(shared=kernel.metadata.shared, usage=_usage(kernel))
    print(json.dumps(info), flush=True)


def main() -> None:
    ints = ["C", "N", "stride_fb", "stride_fc", "stride_fn"]
    for dtype in (torch.float32, torch.bfloat16):
        for channels in (64, 512, 20):  # relu1_1, relu4_1, and a C below one 64-tile
            cfg = ti.gram_config(torch.empty(1, channels, 4096, dtype=dtype))
            for loss, atomic in ((False, True), (False, False), (True, False)):
                sig = {"f_ptr": PTR[dtype], "g_ptr": "*fp32", "t_ptr": "*fp32", "loss_ptr": "*fp32"}
                sig.update({"tiles_ptr": "*i32", **{k: "i32" for k in ints}, "stride_tb": "i32"})
                sig.update({"k_per_split": "i32", "scale": "fp32", "loss_weight": "fp32"})
                consts = {"BLOCK_C": cfg["block_c"], "BLOCK_K": cfg["block_k"]}
                consts.update(USE_ATOMIC=atomic, LOSS=loss)
                consts["INPUT_PRECISION"] = "tf32" if dtype == torch.float32 else "ieee"
                compile_one(ti._gram_kernel, sig, consts, cfg["num_warps"], cfg["num_stages"])
        for channels in (64, 20):
            bm, bn, bk, warps = ti.sym_matmul_config(channels, interpreted=False)
            sig = {"s_ptr": "*fp32", "f_ptr": PTR[dtype], "out_ptr": PTR[dtype]}
            sig.update({"gscale_ptr": "*fp32", **{k: "i32" for k in ints}, "scale": "fp32"})
            consts = {"HAS_GSCALE": True, "BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk}
            consts["INPUT_PRECISION"] = "tf32"
            compile_one(ti._sym_matmul_kernel, sig, consts, warps, 3)
    sig = {"g_ptr": "*fp32", "t_ptr": "*fp32", "loss_ptr": "*fp32", "total": "i32", "CC": "i32"}
    sig.update({"stride_tb": "i32", "loss_weight": "fp32"})
    compile_one(ti._diff_loss_kernel, sig, {"BLOCK": ti.DIFF_BLOCK}, 4, 3)


if __name__ == "__main__":
    main()
