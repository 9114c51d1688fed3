"""Benchmark cases and timing for ``gst bench kernels`` and ``benchmarks/test_bench_kernels.py``.

Providers:

* ``eager``: what peers do — ``bmm(F, Fᵀ)/(C·N)`` in the input dtype plus
  ``mse_loss``, differentiated by autograd, one call per layer;
* ``gst-torch``: gst_kernels with ``backend="torch"``;
* ``compile``: ``torch.compile`` of the eager function;
* ``triton``: gst_kernels with ``backend="triton"`` (CUDA only).

Ops: ``gram`` (forward), ``style_loss`` (one layer, forward+backward) and
``multi_style_loss`` (all VGG19 style layers in one call, forward and
forward+backward).

FLOPs count the full product ``2·B·C²·N`` (forward) and ``4·B·C²·N``
(forward+backward), whatever a provider actually computes, so TFLOP/s
compare like for like. Bytes are the minimum traffic: F read once
(forward) or twice plus dF written (forward+backward), plus the B·C² Gram.

Timing: CUDA events on the GPU (``triton.testing.do_bench`` needs a GPU
driver, and this also runs on CPU), ``time.perf_counter`` on CPU; the
median of the timed repetitions is reported.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F

from gst_kernels.backend import triton_available
from gst_kernels.gram import gram
from gst_kernels.multi_style_loss import multi_style_loss
from gst_kernels.style_loss import style_loss

__all__ = [
    "PROVIDERS",
    "VGG19_STYLE_LAYERS",
    "BenchResult",
    "environment",
    "layer_shapes",
    "make_case",
    "markdown_table",
    "run_grid",
    "table_rows",
]

# (name, channels, downsampling) of the VGG19 style layers
VGG19_STYLE_LAYERS = [
    ("relu1_1", 64, 1),
    ("relu2_1", 128, 2),
    ("relu3_1", 256, 4),
    ("relu4_1", 512, 8),
    ("relu5_1", 512, 16),
]
PROVIDERS = ("eager", "gst-torch", "compile", "triton")
OPS = ("gram", "style_loss", "multi_style_loss")
TABLE_HEADERS = (
    "op",
    "pass",
    "shape",
    "dtype",
    "provider",
    "median ms",
    "vs eager",
    "TFLOP/s",
    "GB/s",
)


def layer_shapes(size: int, batch: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """``(name, (B, C, H, W))`` of the VGG19 style layers for a ``size``² image."""
    return [(n, (batch, c, size // d, size // d)) for n, c, d in VGG19_STYLE_LAYERS]


# --------------------------------------------------------------- the providers


def _eager_gram(x: torch.Tensor) -> torch.Tensor:
    f = x.flatten(2)
    return torch.bmm(f, f.transpose(1, 2)) / (f.shape[1] * f.shape[2])


def _eager_multi(xs: Sequence[torch.Tensor], ts: Sequence[torch.Tensor]) -> torch.Tensor:
    loss = torch.zeros((), device=xs[0].device)
    for x, t in zip(xs, ts, strict=True):
        g = _eager_gram(x)
        loss = loss + F.mse_loss(g, t.to(g.dtype).expand_as(g))
    return loss


def _eager_style(xs: Sequence[torch.Tensor], ts: Sequence[torch.Tensor]) -> torch.Tensor:
    g = _eager_gram(xs[0])
    return F.mse_loss(g, ts[0].to(g.dtype).expand_as(g))


def _provider_fns(provider: str) -> tuple[Callable, Callable, Callable]:
    """(gram, style loss of one layer, multi-layer style loss) callables for a provider."""
    if provider == "eager":
        return _eager_gram, _eager_style, _eager_multi
    if provider == "compile":
        return torch.compile(_eager_gram), torch.compile(_eager_style), torch.compile(_eager_multi)
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}; got {provider!r}")
    backend = "torch" if provider == "gst-torch" else "triton"
    return (
        lambda x: gram(x, backend=backend),
        lambda xs, ts: style_loss(xs[0], ts[0], backend=backend),
        lambda xs, ts: multi_style_loss(xs, ts, backend=backend),
    )


@dataclass
class BenchResult:
    op: str
    passes: str  # "fwd" or "fwd+bwd"
    shape: str
    dtype: str
    provider: str
    median_ms: float
    flops: float
    bytes: float
    reps: int
    peak_mib: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def tflops(self) -> float:
        return self.flops / (self.median_ms * 1e-3) / 1e12

    @property
    def gbps(self) -> float:
        return self.bytes / (self.median_ms * 1e-3) / 1e9


def make_case(
    op: str,
    passes: str,
    provider: str,
    shapes: Sequence[tuple[int, int, int, int]],
    dtype: torch.dtype,
    device: str,
) -> tuple[Callable[[], object], float, float]:
    """A no-argument callable running one iteration, with its FLOP and byte counts.

    ``shapes`` holds one (B, C, H, W) for ``gram``/``style_loss`` and all
    layers for ``multi_style_loss``. Inputs are post-ReLU-like (non-negative)
    and targets are the Grams of other random features, as in style transfer.
    """
    gen = torch.Generator(device="cpu").manual_seed(0)
    xs = [torch.rand(s, generator=gen).to(device=device, dtype=dtype) for s in shapes]
    ts = [torch.rand(s[1], s[1], generator=gen).to(device) * 0.3 for s in shapes]
    es = torch.finfo(dtype).bits // 8
    flops = sum(2.0 * b * c * c * h * w for b, c, h, w in shapes)
    io = sum(float(b * c * h * w * es) for b, c, h, w in shapes)
    gram_bytes = sum(float(b * c * c * 4) for b, c, _, _ in shapes)
    gram_fn, style_fn, multi_fn = _provider_fns(provider)
    if op == "gram":
        if passes != "fwd":
            raise ValueError("the gram benchmark is forward only")
        x = xs[0]

        def run() -> object:
            with torch.no_grad():
                return gram_fn(x)

        return run, flops, io + gram_bytes
    if op not in ("style_loss", "multi_style_loss"):
        raise ValueError(f"op must be one of {OPS}; got {op!r}")
    loss_fn = multi_fn if op == "multi_style_loss" else style_fn
    if passes == "fwd":

        def run() -> object:
            with torch.no_grad():
                return loss_fn(xs, ts)

        return run, flops, io + gram_bytes
    leaves = [x.requires_grad_() for x in xs]

    def run_bwd() -> object:
        for x in leaves:
            x.grad = None
        loss = loss_fn(leaves, ts)
        loss.backward()
        return loss.detach()

    return run_bwd, 2 * flops, 3 * io + gram_bytes


def _time_once(fn: Callable[[], object], cuda: bool) -> float:
    """One call in milliseconds: CUDA events on the GPU, perf_counter on CPU."""
    if cuda:
        t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0.record()
        fn()
        t1.record()
        t1.synchronize()
        return t0.elapsed_time(t1)
    s = time.perf_counter()
    fn()
    return (time.perf_counter() - s) * 1e3


def time_interleaved(
    fns: dict[str, Callable[[], object]],
    device: str,
    *,
    budget_s: float = 1.0,
    min_reps: int = 5,
    max_reps: int = 100,
) -> dict[str, list[float]]:
    """Per-call times (ms) of each function, taken in alternating rounds.

    Alternating means a provider is not penalised for the moment it ran: on a
    shared 2-core CPU other processes come and go, and they slow every
    provider of a round alike.
    """
    cuda = device.startswith("cuda")
    times: dict[str, list[float]] = {k: [] for k in fns}
    start = time.perf_counter()
    reps = 0
    while reps < max_reps and (reps < min_reps or time.perf_counter() - start < budget_s):
        for name, fn in fns.items():
            times[name].append(_time_once(fn, cuda))
        reps += 1
    return times


def environment(device: str) -> dict[str, object]:
    """Device name and library versions, for the JSON output."""
    env: dict[str, object] = {
        "device": device,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
    }
    if device.startswith("cuda"):
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
        env["allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
    else:
        env["device_name"] = _cpu_name()
    if triton_available():
        import triton

        env["triton"] = triton.__version__
    return env


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def default_providers(device: str) -> list[str]:
    if device.startswith("cuda"):
        return ["eager", "gst-torch", "compile"] + (["triton"] if triton_available() else [])
    return ["eager", "gst-torch"]  # torch.compile on CPU: minutes of C++ compilation per shape


def run_grid(
    *,
    device: str,
    sizes: Sequence[int],
    batches: Sequence[int],
    dtypes: Sequence[torch.dtype],
    providers: Sequence[str],
    ops: Sequence[str] = OPS,
    budget_s: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> list[BenchResult]:
    """Time every (op, shape, dtype, provider) of the grid; one result per provider and case.

    ``budget_s`` is the timing budget of one case, shared by its providers.
    """
    results: list[BenchResult] = []
    for size in sizes:
        for batch in batches:
            layers = layer_shapes(size, batch)
            for dtype in dtypes:
                for op, passes, shapes, label in _cases(ops, size, batch, layers):
                    if progress:
                        progress(f"{op} {passes} {label} {dtype}")
                    results += _run_case(
                        op, passes, providers, shapes, label, dtype, device, budget_s
                    )
    return results


def _cases(ops, size, batch, layers):
    for op in ops:
        if op == "multi_style_loss":
            for passes in ("fwd", "fwd+bwd"):
                yield op, passes, [s for _, s in layers], f"vgg19 {size}² B={batch}"
        else:
            passes = "fwd" if op == "gram" else "fwd+bwd"
            for name, s in layers:
                yield op, passes, [s], f"{name} {tuple(s)}"


def _run_case(op, passes, providers, shapes, label, dtype, device, budget_s) -> list[BenchResult]:
    cuda = device.startswith("cuda")
    fns, counts, peaks = {}, {}, {}
    for provider in providers:
        fn, flops, nbytes = make_case(op, passes, provider, shapes, dtype, device)
        for _ in range(3 if provider == "compile" else (10 if cuda else 1)):
            fn()  # warm-up: compilation, caches, allocator
        if cuda:  # peak memory of one call above what the inputs already hold
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            fn()
            torch.cuda.synchronize()
            peaks[provider] = (torch.cuda.max_memory_allocated() - base) / 2**20
        fns[provider], counts[provider] = fn, (flops, nbytes)
    times = time_interleaved(
        fns, device, budget_s=budget_s, min_reps=10 if cuda else 3, max_reps=200 if cuda else 30
    )
    return [
        BenchResult(
            op=op,
            passes=passes,
            shape=label,
            dtype=str(dtype).removeprefix("torch."),
            provider=provider,
            median_ms=statistics.median(times[provider]),
            flops=counts[provider][0],
            bytes=counts[provider][1],
            reps=len(times[provider]),
            peak_mib=peaks.get(provider),
        )
        for provider in providers
    ]


def table_rows(results: Sequence[BenchResult]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the printed table; speed-up is relative to ``eager`` of the same case."""
    eager = {
        (r.op, r.passes, r.shape, r.dtype): r.median_ms for r in results if r.provider == "eager"
    }
    headers = list(TABLE_HEADERS)
    with_mem = any(r.peak_mib is not None for r in results)
    if with_mem:
        headers.append("peak MiB")
    rows = []
    for r in results:
        base = eager.get((r.op, r.passes, r.shape, r.dtype))
        speed = f"{base / r.median_ms:.2f}x" if base else "-"
        row = [
            r.op,
            r.passes,
            r.shape,
            r.dtype,
            r.provider,
            f"{r.median_ms:.3f}",
            speed,
            f"{r.tflops:.3f}",
            f"{r.gbps:.1f}",
        ]
        if with_mem:
            row.append("-" if r.peak_mib is None else f"{r.peak_mib:.1f}")
        rows.append(row)
    return headers, rows


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table as GitHub markdown, for docs/kernels.md and the README."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_json(
    results: Sequence[BenchResult], device: str, options: dict | None = None
) -> dict[str, object]:
    """Results with speed-ups, TFLOP/s and GB/s, plus the environment and the options used."""
    eager = {
        (r.op, r.passes, r.shape, r.dtype): r.median_ms for r in results if r.provider == "eager"
    }
    out = []
    for r in results:
        d = asdict(r)
        d.pop("extra")
        base = eager.get((r.op, r.passes, r.shape, r.dtype))
        d["speedup_vs_eager"] = base / r.median_ms if base else None
        d["tflops"] = r.tflops
        d["gbps"] = r.gbps
        out.append(d)
    return {
        "environment": environment(device),
        "options": options or {},
        "results": out,
    }
