"""`gst export` of a U-Net (pix2pix) checkpoint runs at any size (issue 20 item 1), and an
export that fails its check leaves no file."""

from __future__ import annotations

import pytest
import torch

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.checkpoint import load_network
from gst_core.cli import main
from gst_core.training.build import build_trainer
from tests.i2i.conftest import tiny_config

REASON = "the onnx extra is not installed (pip install 'gst-toolkit[onnx]')"


@pytest.fixture
def unet_checkpoint(tmp_path):
    config = tiny_config("pix2pix", steps=1, run_dir=tmp_path / "run", checkpoint_every=1)
    build_trainer(config, "pix2pix").fit()
    return tmp_path / "run" / "checkpoints" / "last.pt"


def test_unet_export_runs_at_sizes_that_are_not_multiples(unet_checkpoint, tmp_path, capsys):
    pytest.importorskip("onnxscript", reason=REASON)
    ort = pytest.importorskip("onnxruntime", reason=REASON)
    out = tmp_path / "unet.onnx"
    assert main(["export", str(unet_checkpoint), "-o", str(out)]) == 0
    assert "onnxruntime matches PyTorch" in capsys.readouterr().err
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    generator = load_network(unet_checkpoint, "generator").eval()
    x = torch.rand(2, 3, 45, 70)  # 32 is the multiple: neither side is one
    (got,) = session.run(None, {"image": (x * 2 - 1).numpy()})
    assert got.shape == (2, 3, 45, 70)
    # The interior agrees with gst translate's padding (reflect there, replicate in the graph
    # differs only near the padded bottom/right edges).
    expected = apply_image_generator(generator, x) * 2 - 1
    inner = (torch.from_numpy(got) - expected)[..., :20, :40].abs().max()
    assert inner < 0.2


def test_an_export_that_fails_its_check_leaves_no_file(unet_checkpoint, tmp_path, monkeypatch):
    pytest.importorskip("onnxscript", reason=REASON)
    pytest.importorskip("onnxruntime", reason=REASON)
    import gst_core.apply.export_onnx as export_onnx

    monkeypatch.setattr(export_onnx, "compare_with_onnxruntime", lambda *a, **k: 0.5)
    out = tmp_path / "bad.onnx"
    assert main(["export", str(unet_checkpoint), "-o", str(out)]) == 2
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
