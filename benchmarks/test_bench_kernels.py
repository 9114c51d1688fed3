"""pytest-benchmark suite for the Gram / style-loss kernels.

Run: ``pytest benchmarks/test_bench_kernels.py`` (never part of ``pytest tests``).

Grid: ``GST_BENCH_GRID=full`` runs the whole issue grid (VGG19 relu1_1..relu5_1
at 256², 512², 1024², batch 1 and 4, float32 and bfloat16, forward and
forward+backward, providers eager / gst-torch / compile / triton); ``small``
runs 256², batch 1, float32, eager and gst-torch. Default: ``full`` on a CUDA
machine, ``small`` elsewhere (the full grid takes hours on a 2-core CPU, and
torch.compile on CPU spends minutes compiling C++ per shape).
``GST_BENCH_PROVIDERS=eager,compile`` narrows the providers.

Each benchmark records its FLOP and byte counts in ``extra_info``; ``gst
bench kernels`` prints the same cases as a table with TFLOP/s and GB/s.
"""

from __future__ import annotations

import os

import pytest
import torch

from gst_core.bench import kernels as bench

CUDA = torch.cuda.is_available()
DEVICE = "cuda" if CUDA else "cpu"
GRID = os.environ.get("GST_BENCH_GRID", "full" if CUDA else "small")
if GRID not in ("full", "small"):
    raise ValueError(f"GST_BENCH_GRID must be 'full' or 'small'; got {GRID!r}")

SIZES = [256, 512, 1024] if GRID == "full" else [256]
BATCHES = [1, 4] if GRID == "full" else [1]
DTYPES = [torch.float32, torch.bfloat16] if GRID == "full" else [torch.float32]
PROVIDERS = (
    os.environ["GST_BENCH_PROVIDERS"].split(",")
    if os.environ.get("GST_BENCH_PROVIDERS")
    else (list(bench.PROVIDERS) if GRID == "full" else ["eager", "gst-torch"])
)


def _skip_reason(provider: str) -> str | None:
    if provider == "triton" and not CUDA:
        return "the triton provider times real kernels: needs a CUDA GPU"
    if provider == "triton" and not bench.triton_available():
        return "triton is not installed"
    return None


def _params() -> list:
    params = []
    for size in SIZES:
        for batch in BATCHES:
            layers = bench.layer_shapes(size, batch)
            for dtype in DTYPES:
                dname = str(dtype).removeprefix("torch.")
                cases = [("gram", "fwd", [s], n) for n, s in layers]
                cases += [("style_loss", "fwd+bwd", [s], n) for n, s in layers]
                cases += [
                    ("multi_style_loss", p, [s for _, s in layers], "vgg19")
                    for p in ("fwd", "fwd+bwd")
                ]
                for op, passes, shapes, name in cases:
                    for provider in PROVIDERS:
                        reason = _skip_reason(provider)
                        marks = [pytest.mark.skip(reason=reason)] if reason else []
                        pid = f"{op}-{passes}-{name}-{size}-b{batch}-{dname}-{provider}"
                        params.append(
                            pytest.param(op, passes, shapes, dtype, provider, id=pid, marks=marks)
                        )
    return params


@pytest.fixture(autouse=True)
def _tf32():
    # fp32 timings on the GPU are taken with tf32 on for every provider (the target setting)
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    yield
    torch.backends.cuda.matmul.allow_tf32 = old


@pytest.mark.parametrize(("op", "passes", "shapes", "dtype", "provider"), _params())
def test_kernels(benchmark, op, passes, shapes, dtype, provider) -> None:
    fn, flops, nbytes = bench.make_case(op, passes, provider, shapes, dtype, DEVICE)
    for _ in range(3 if provider == "compile" else 1):
        fn()  # compile / warm caches outside the timed rounds

    def call() -> None:
        fn()
        if CUDA:
            torch.cuda.synchronize()

    benchmark.extra_info.update(
        {"flops": flops, "bytes": nbytes, "device": DEVICE, "provider": provider}
    )
    benchmark.pedantic(call, rounds=20 if CUDA else 5, warmup_rounds=2 if CUDA else 0)
