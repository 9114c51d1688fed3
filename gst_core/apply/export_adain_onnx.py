"""An AdaIN model as one ONNX file: inputs ``content``, ``style`` (any sizes) and ``alpha``.

``content`` ``(N, 3, H, W)`` and ``style`` ``(N, 3, H', W')`` in ``[0, 1]``, ``alpha`` a
float32 scalar tensor; output ``(N, 3, H, W)`` in ``[0, 1]`` for ``H, W`` multiples of
8 (the encoder pools three times; callers pad, as :func:`adain_stylize` does).
Checked with ``onnx.checker`` and compared with PyTorch in onnxruntime on sizes it was
not traced with.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from gst_core.apply.adain_model import AdaINModel
from gst_core.apply.export_onnx import ExportError, require

__all__ = ["compare_adain_onnx", "export_adain_onnx"]


def export_adain_onnx(model: AdaINModel, path: str | os.PathLike[str]) -> Path:
    require("onnx", "onnxscript")
    import onnx

    model = model.eval()
    example = (torch.rand(2, 3, 64, 64), torch.rand(2, 3, 48, 56), torch.tensor(0.5))
    batch = torch.export.Dim("batch")
    dims = {
        "content": {0: batch, 2: torch.export.Dim("h", min=16), 3: torch.export.Dim("w", min=16)},
        "style": {0: batch, 2: torch.export.Dim("sh", min=16), 3: torch.export.Dim("sw", min=16)},
        "alpha": {},
    }
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model, example, dynamic_shapes=dims, input_names=list(dims),
                output_names=["output"], dynamo=True, external_data=False, verbose=False,
            )  # fmt: skip
        program.save(str(tmp), external_data=False)
        onnx.checker.check_model(str(tmp), full_check=True)
    except Exception as exc:  # torch.export / onnx errors come in many types
        tmp.unlink(missing_ok=True)
        raise ExportError(f"exporting the AdaIN model failed: {type(exc).__name__}: {exc}") from exc
    os.replace(tmp, path)
    return path


def compare_adain_onnx(model: AdaINModel, path: str | os.PathLike[str]) -> float:
    """The largest ``|onnxruntime − torch|`` on two unseen size pairs and two alphas."""
    require("onnxruntime")
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = torch.Generator().manual_seed(0)
    worst = 0.0
    for (h, w), (sh, sw), alpha in (((40, 72), (33, 50), 1.0), ((80, 32), (64, 64), 0.3)):
        c, s = torch.rand(2, 3, h, w, generator=rng), torch.rand(2, 3, sh, sw, generator=rng)
        a = torch.tensor(alpha)
        with torch.no_grad():
            want = model(c, s, a)
        (got,) = session.run(None, {"content": c.numpy(), "style": s.numpy(), "alpha": a.numpy()})
        worst = max(worst, float((torch.from_numpy(got) - want).abs().max()))
    return worst
