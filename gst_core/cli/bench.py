"""`gst bench kernels`: time the Gram/style-loss providers and print a table.

Thin on purpose: the cases, timing and table live in gst_core.bench.kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from gst_core.atomic_file import atomic_write

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run benchmarks")
    what = parser.add_subparsers(title="benchmarks", metavar="BENCHMARK", required=True)
    kernels = what.add_parser(
        "kernels",
        help="Gram matrix and style loss: eager torch vs gst's torch path, torch.compile, Triton",
        description=(
            "Time gram, style_loss and multi_style_loss at the VGG19 style-layer shapes "
            "(relu1_1..relu5_1) and print median time, speed-up over eager torch, TFLOP/s and "
            "GB/s. Defaults: on CUDA the full grid (sizes 256 512 1024, batch 1 4, float32 "
            "and bfloat16, tf32 on); on CPU 256², batch 1, float32, without torch.compile."
        ),
    )
    kernels.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda if available")
    kernels.add_argument("--sizes", type=int, nargs="+", help="image sides, e.g. 256 512 1024")
    kernels.add_argument("--batch", type=int, nargs="+", help="batch sizes, e.g. 1 4")
    kernels.add_argument("--dtype", choices=sorted(DTYPES), nargs="+", help="feature dtypes")
    kernels.add_argument(
        "--providers",
        nargs="+",
        choices=("eager", "gst-torch", "compile", "triton"),
        help="default: all that run on the device (no torch.compile on CPU: it compiles C++)",
    )
    kernels.add_argument(
        "--ops", nargs="+", choices=("gram", "style_loss", "multi_style_loss"), help="default: all"
    )
    kernels.add_argument(
        "--no-tf32",
        action="store_true",
        help="CUDA: keep float32 matmuls in full precision (default: tf32 for every provider)",
    )
    kernels.add_argument("--budget", type=float, default=1.0, help="seconds of timing per case")
    kernels.add_argument("--threads", type=int, help="CPU: torch.set_num_threads")
    kernels.add_argument("--json", type=Path, help="also write the results here as JSON")
    kernels.add_argument("--markdown", action="store_true", help="print the table as markdown")
    kernels.set_defaults(func=run_kernels)


def run_kernels(args: argparse.Namespace) -> int:
    from gst_core.bench import kernels as bench
    from gst_core.cli.table import format_table
    from gst_core.runtime.option_checks import check_option
    from gst_core.runtime.output_paths import check_output_file

    for flag in ("sizes", "batch"):
        for value in getattr(args, flag) or []:
            check_option(value, "an integer", f"--{flag}", source="gst bench kernels", minimum=1)
    if args.threads is not None:
        check_option(args.threads, "an integer", "--threads", source="gst bench kernels", minimum=1)
    check_option(args.budget, "a number", "--budget", source="gst bench kernels", minimum=0)
    if args.json is not None:
        # Before the timings, not after: a results file is meant to be replaced on a re-run.
        args.json = check_output_file(args.json, overwrite=True, what="--json output")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print(
            "gst: error: --device cuda, but torch sees no CUDA GPU; use --device cpu",
            file=sys.stderr,
        )
        return 2
    cuda = device == "cuda"
    providers = args.providers or bench.default_providers(device)
    if "triton" in providers and not cuda:
        print(
            "gst: error: the triton provider needs --device cuda (the CPU interpreter is for "
            "tests, not timings)",
            file=sys.stderr,
        )
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    results = bench.run_grid(
        device=device,
        sizes=args.sizes or ([256, 512, 1024] if cuda else [256]),
        batches=args.batch or ([1, 4] if cuda else [1]),
        dtypes=[
            DTYPES[d] for d in (args.dtype or (["float32", "bfloat16"] if cuda else ["float32"]))
        ],
        providers=providers,
        ops=args.ops or bench.OPS,
        budget_s=args.budget,
        progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
    )
    env = bench.environment(device)
    print(f"{env['device_name']} | torch {env['torch']} | triton {env.get('triton', '-')}")
    headers, rows = bench.table_rows(results)
    print(bench.markdown_table(headers, rows) if args.markdown else format_table(headers, rows))
    if args.json:
        options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        options.pop("func", None)
        data = bench.to_json(results, device, options=options)
        if load_start is not None:  # other processes on the machine skew CPU timings
            data["environment"]["loadavg_at_start"] = load_start
            data["environment"]["loadavg_at_end"] = os.getloadavg()
        with atomic_write(args.json) as f:
            f.write((json.dumps(data, indent=2) + "\n").encode())
        print(f"wrote {args.json}")
    return 0
