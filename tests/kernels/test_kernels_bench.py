"""`gst bench kernels` and gst_core.bench.kernels on tiny shapes (timings are not asserted)."""

from __future__ import annotations

import json

import pytest
import torch

from gst_core.bench import kernels as bench


def test_layer_shapes_are_vgg19_style_layers() -> None:
    assert bench.layer_shapes(256, 4) == [
        ("relu1_1", (4, 64, 256, 256)),
        ("relu2_1", (4, 128, 128, 128)),
        ("relu3_1", (4, 256, 64, 64)),
        ("relu4_1", (4, 512, 32, 32)),
        ("relu5_1", (4, 512, 16, 16)),
    ]


@pytest.mark.parametrize("provider", ["eager", "gst-torch"])
def test_cases_compute_the_same_loss(provider: str) -> None:
    shapes = [s for _, s in bench.layer_shapes(16, 2)]
    fn, flops, nbytes = bench.make_case(
        "multi_style_loss", "fwd+bwd", provider, shapes, torch.float32, "cpu"
    )
    eager_fn, _, _ = bench.make_case(
        "multi_style_loss", "fwd+bwd", "eager", shapes, torch.float32, "cpu"
    )
    assert float(fn()) == pytest.approx(float(eager_fn()), rel=1e-5)
    assert flops == 2 * sum(2.0 * b * c * c * h * w for b, c, h, w in shapes)
    assert nbytes > 0


def test_cli_prints_table_and_writes_json(tmp_path, capsys) -> None:
    cli = pytest.importorskip("gst_core.cli")
    out = tmp_path / "r.json"
    argv = [
        "bench",
        "kernels",
        "--device",
        "cpu",
        "--sizes",
        "32",
        "--ops",
        "gram",
        "multi_style_loss",
    ]
    assert cli.main([*argv, "--budget", "0", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median ms" in printed and "vs eager" in printed and "relu5_1 (1, 512, 2, 2)" in printed
    data = json.loads(out.read_text())
    assert data["environment"]["torch"] == torch.__version__
    assert data["environment"]["device"] == "cpu" and data["environment"]["device_name"]
    rows = data["results"]
    # 5 gram layers + multi fwd and fwd+bwd, each for eager and gst-torch
    assert len(rows) == 2 * (5 + 2)
    assert {r["provider"] for r in rows} == {"eager", "gst-torch"}
    assert all(r["median_ms"] > 0 and r["reps"] >= 3 for r in rows)
    assert all(r["speedup_vs_eager"] == 1.0 for r in rows if r["provider"] == "eager")


def test_cli_refuses_impossible_requests(capsys) -> None:
    cli = pytest.importorskip("gst_core.cli")
    if not torch.cuda.is_available():
        assert cli.main(["bench", "kernels", "--device", "cuda"]) == 2
        assert "no CUDA GPU" in capsys.readouterr().err
        assert cli.main(["bench", "kernels", "--device", "cpu", "--providers", "triton"]) == 2
        assert "needs --device cuda" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["bench"])  # a benchmark name is required


def test_table_speedups_and_markdown() -> None:
    mk = dict(op="gram", passes="fwd", shape="s", dtype="float32", flops=2e9, bytes=1e9, reps=3)
    results = [
        bench.BenchResult(provider="eager", median_ms=10.0, **mk),
        bench.BenchResult(provider="gst-torch", median_ms=4.0, **mk),
    ]
    headers, rows = bench.table_rows(results)
    assert rows[1][headers.index("vs eager")] == "2.50x"
    assert rows[1][headers.index("TFLOP/s")] == "0.500"  # 2e9 FLOP in 4 ms
    assert rows[1][headers.index("GB/s")] == "250.0"
    md = bench.markdown_table(headers, rows).splitlines()
    assert md[0].startswith("| op | pass |") and md[1].startswith("|---|")
    assert md[3] == "| " + " | ".join(rows[1]) + " |"
