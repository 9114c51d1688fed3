"""Compile every Triton kernel, as the launchers configure it, for an H100 (sm_90).

Run as a script in a process without TRITON_INTERPRET (the interpreter
replaces the kernels): ``python tests/kernels/sm90_compile.py``. Needs no GPU:
Triton lowers to PTX and runs the ptxas bundled in its wheel. Prints one JSON
line per kernel variant with its shared memory, registers and stack (a
non-zero stack is ptxas spilling registers to local memory).

Every path the launchers can pick is compiled: each feature dtype (float32,
float16, bfloat16) × ``allow_tf32`` (False is the default: torch's tf32 flag is
off unless a user sets it), for the Gram (atomic split, plain store or
partials, fused loss), the combine kernel and the backward product, plus the
64-bit-offset variants. Variants that compile to the same kernel (the Gram of
fp16/bf16 ignores ``allow_tf32``) are compiled once and list every path they serve.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
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
IR_ELT = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}
DTYPES = (torch.float32, torch.float16, torch.bfloat16)
FLOAT_ARGS = {"scale", "loss_weight"}
CUOBJDUMP = Path(triton.__file__).parent / "backends/nvidia/bin/cuobjdump"


def _usage(kernel) -> dict[str, int]:
    """Registers and stack bytes per thread (cuobjdump --dump-resource-usage)."""
    if not CUOBJDUMP.exists():
        return {}
    with tempfile.NamedTemporaryFile(suffix=".cubin", delete=False) as fh:
        fh.write(kernel.asm["cubin"])
    out = subprocess.run(
        [str(CUOBJDUMP), "--dump-resource-usage", fh.name], capture_output=True, text=True
    ).stdout
    os.unlink(fh.name)
    found = {k.lower(): int(v) for k, v in re.findall(r"\b(REG|STACK):(\d+)", out)}
    return found


def _offset_types(ttgir: str, elt: str) -> list[str]:
    """Integer types of the offsets added to tensors of ``elt`` pointers (the features
    and, in the backward, its output), after Triton's optimisation passes."""
    pat = rf"tt\.addptr [^:]*: tensor<[^>]*!tt\.ptr<{elt}>[^>]*>, tensor<[^>]*x(i\d+)"
    return sorted(set(re.findall(pat, ttgir)))


def compile_one(fn, signature: dict[str, str], consts: dict, num_warps: int, num_stages: int):
    """Compile as the JIT would for contiguous, 16-byte-aligned VGG-shaped inputs.

    Like ``@triton.jit`` at launch: an int argument equal to 1 (the innermost
    stride) becomes a constant, and pointers and ints that are multiples of 16
    carry ``tt.divisibility``; without that, loads cannot be vectorised and
    16-bit inputs are not pipelined.
    """
    consts = dict(consts)
    for name in ("stride_fn", "stride_on"):
        if name in signature:
            consts[name] = 1
    sig = dict(signature, **{k: "constexpr" for k in consts})
    names = list(sig)
    aligned = [n for n, t in signature.items() if n not in consts and n not in FLOAT_ARGS]
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in aligned}
    return triton.compile(
        ASTSource(fn=fn, signature=sig, constexprs=consts, attrs=attrs),
        target=TARGET,
        options={"num_warps": num_warps, "num_stages": num_stages},
    )


def _variants():
    """(kernel, signature, constexprs, num_warps, num_stages, path) for every launch path."""
    for dtype in DTYPES:
        for tf32 in (False, True):
            path = {"dtype": str(dtype).removeprefix("torch."), "allow_tf32": tf32}
            for channels in (64, 512, 20):  # relu1_1, relu4_1, and a C below one 64-tile
                f = torch.empty(1, channels, 4096, dtype=dtype, device="meta")
                cfg = ti.gram_config(f, allow_tf32=tf32)
                sig = {"f_ptr": PTR[dtype], "g_ptr": "*fp32", "t_ptr": "*fp32"}
                sig.update({"loss_ptr": "*fp32", "tiles_ptr": "*i32"})
                for k in ("n_tiles", "C", "N", "stride_fb", "stride_fc", "stride_fn"):
                    sig[k] = "i32"
                sig.update({"stride_tb": "i32", "stride_gs": "i32", "k_per_split": "i32"})
                sig.update({"scale": "fp32", "loss_weight": "fp32"})
                # atomic split (default), plain store (unsplit, or deterministic partials),
                # fused forward-only loss; 64-bit offsets for the store variant
                kinds = [(True, False, False), (False, False, False), (False, True, False)]
                if channels != 20:
                    kinds.append((False, False, True))
                for atomic, loss, int64 in kinds:
                    consts = {"BLOCK_C": cfg["block_c"], "BLOCK_K": cfg["block_k"]}
                    consts.update(USE_ATOMIC=atomic, LOSS=loss, INT64=int64)
                    consts["INPUT_PRECISION"] = cfg["precision"]
                    yield ti._gram_kernel, sig, consts, cfg["num_warps"], cfg["num_stages"], path
            for channels in (64, 20):
                cfg = ti.sym_matmul_config(channels, dtype, tf32, interpreted=False)
                sig = {"s_ptr": "*fp32", "f_ptr": PTR[dtype], "out_ptr": PTR[dtype]}
                sig.update({"gscale_ptr": "*fp32", "C": "i32", "N": "i32", "num_n": "i32"})
                for k in ("stride_fb", "stride_fc", "stride_fn", "stride_ob", "stride_oc"):
                    sig[k] = "i32"
                sig.update({"stride_on": "i32", "scale": "fp32"})
                for int64 in (False, True) if channels == 64 else (False,):
                    consts = {"HAS_GSCALE": True, "BLOCK_M": cfg["block_m"]}
                    consts.update(BLOCK_N=cfg["block_n"], BLOCK_K=cfg["block_k"], INT64=int64)
                    consts.update(SPLIT_S=cfg["split_s"], INPUT_PRECISION=cfg["precision"])
                    yield ti._sym_matmul_kernel, sig, consts, cfg["num_warps"], 3, path
    sig = {"p_ptr": "*fp32", "g_ptr": "*fp32", "t_ptr": "*fp32", "loss_ptr": "*fp32"}
    sig.update({"total": "i32", "splits": "i32", "CC": "i32", "stride_tb": "i32"})
    sig["loss_weight"] = "fp32"
    for loss, int64 in ((False, False), (True, False), (True, True)):
        consts = {"BLOCK": ti.COMBINE_BLOCK, "LOSS": loss, "INT64": int64}
        yield ti._combine_kernel, sig, consts, 4, 3, {"dtype": "any", "allow_tf32": None}


def _compile_row(job: tuple) -> dict:
    name, sig, consts, warps, stages = job
    kernel = compile_one(getattr(ti, name), sig, consts, warps, stages)
    info = {"kernel": name, **consts, "num_warps": warps}
    info.update(shared=kernel.metadata.shared, **_usage(kernel))
    info["tensor_cores"] = re.search(r"\b(wgmma|mma)\.", kernel.asm["ptx"]) is not None
    f_elt = sig["f_ptr"].removeprefix("*").replace("fp", "f") if "f_ptr" in sig else None
    if f_elt in ("f16", "bf16"):  # fp32 features share the pointer type with G and S
        info["f_offsets"] = _offset_types(kernel.asm["ttgir"], f_elt)
    return info


def main() -> None:
    jobs: dict[tuple, list[dict]] = {}  # one compilation per distinct kernel, with its paths
    for fn, sig, consts, warps, stages, path in _variants():
        key = (fn.__name__, json.dumps(sig), json.dumps(consts), warps, stages)
        jobs.setdefault(key, []).append(path)
    todo = [(name, json.loads(sig), json.loads(consts), w, st) for name, sig, consts, w, st in jobs]
    # about 60 compilations: two processes halve the wall time on a 2-core CI runner
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for paths, info in zip(jobs.values(), pool.map(_compile_row, todo), strict=True):
            print(json.dumps({**info, "paths": paths}), flush=True)


if __name__ == "__main__":
    main()
