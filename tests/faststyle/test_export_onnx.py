"""`gst export`: ONNX round trip with dynamic batch/height/width; clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gst_core.apply.export_onnx import ExportError, require
from gst_core.checkpoint import load_network
from gst_core.cli import main

REASON = "the onnx extra is not installed (pip install 'gst-toolkit[onnx]'); CI has it via dev"


def test_a_missing_package_names_the_install():
    with pytest.raises(ExportError, match=r"gst-toolkit\[onnx\]"):
        require("gst_no_such_package_for_the_test")


def test_export_round_trip_on_unseen_sizes_and_batches(tiny_checkpoint, tmp_path, capsys):
    pytest.importorskip("onnxscript", reason=REASON)
    ort = pytest.importorskip("onnxruntime", reason=REASON)
    onnx = pytest.importorskip("onnx", reason=REASON)
    out = tmp_path / "m.onnx"
    assert main(["export", str(tiny_checkpoint), "-o", str(out)]) == 0
    assert "onnxruntime matches PyTorch" in capsys.readouterr().err

    model = onnx.load(str(out))
    assert len(model.graph.initializer) > 0  # the weights are inside the file
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert isinstance(dims[0], str) and dims[1] == 3 and all(isinstance(d, str) for d in dims[2:])
    net = load_network(tiny_checkpoint)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for n, (h, w) in [(1, (21, 35)), (3, (40, 28))]:  # traced at 64×64, batch 2
        x = torch.rand(n, 3, h, w) * 2 - 1
        (got,) = session.run(None, {"image": x.numpy()})
        with torch.no_grad():
            expected = net(x).numpy()
        assert got.shape == expected.shape == (n, 3, h, w)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)

    assert main(["export", str(tiny_checkpoint), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
