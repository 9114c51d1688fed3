"""Export an image-to-image generator to one self-contained ONNX file, and check it.

The graph has dynamic batch, height and width. :func:`export_onnx` writes it
with ``torch.onnx.export(dynamo=True)`` (which needs ``onnxscript``), keeps the
weights inside the file, and runs ``onnx.checker``; :func:`compare_with_onnxruntime`
runs it with onnxruntime on sizes and batch sizes it was not traced with and
returns the largest difference from PyTorch. onnx, onnxscript and onnxruntime
are the optional ``onnx`` extra: ``pip install 'gst-toolkit[onnx]'``.
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from gst_core.errors import GstError
from gst_core.interfaces import ImageGenerator

__all__ = ["ExportError", "compare_with_onnxruntime", "export_onnx", "require"]

INSTALL_HINT = "pip install 'gst-toolkit[onnx]' (onnx, onnxscript, onnxruntime)"


class ExportError(GstError, RuntimeError):
    """An export is impossible (a missing package) or its check failed."""


def require(*modules: str) -> None:
    """Import ``modules`` or raise an error naming the package to install."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ExportError(
                f"ONNX export needs the {name} package, which is not installed; {INSTALL_HINT}"
            ) from exc


class _ImageOnly(nn.Module):
    """``generator(x)`` without the optional labels argument, so the graph has one input."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.generator(image)


def export_onnx(
    generator: ImageGenerator,
    path: str | os.PathLike[str],
    *,
    example_size: tuple[int, int] = (64, 64),
    opset: int | None = None,
) -> Path:
    """Write ``generator`` (eval mode) to ``path``; input ``image`` ``(N, C, H, W)`` in [-1, 1]."""
    require("onnx", "onnxscript")
    import onnx

    channels = int(generator.in_channels or 3)
    generator = generator.eval()
    multiple = int(generator.size_multiple)
    # Traced at a size of the generator's multiple; every other size goes through the same
    # graph because the network pads and crops without branching on the size.
    h, w = (max(multiple, s - s % multiple) for s in example_size)
    example = torch.rand(2, channels, h, w) * 2 - 1
    dims = {0: torch.export.Dim("batch"), 2: torch.export.Dim("height"),
            3: torch.export.Dim("width")}  # fmt: skip
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    kwargs = {"opset_version": opset} if opset else {}
    # torch's exporter logs a line per torchvision op it cannot register; gst has none.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch-internal deprecations
            program = torch.onnx.export(
                _ImageOnly(generator).eval(),
                (example,),
                dynamic_shapes={"image": dims},
                input_names=["image"],
                output_names=["output"],
                dynamo=True,
                external_data=False,
                verbose=False,
                **kwargs,
            )
        program.save(str(tmp), external_data=False)
        onnx.checker.check_model(str(tmp), full_check=True)
    except ExportError:
        raise
    except Exception as exc:  # torch.export / onnx errors come in many types
        tmp.unlink(missing_ok=True)
        raise ExportError(
            f"exporting {type(generator).__name__} to ONNX failed: {type(exc).__name__}: {exc}"
        ) from exc
    os.replace(tmp, path)
    return path


def compare_with_onnxruntime(
    generator: ImageGenerator,
    path: str | os.PathLike[str],
    *,
    sizes: Sequence[tuple[int, int]] = ((37, 53), (72, 40)),
    batches: Sequence[int] = (1, 3),
    seed: int = 0,
) -> float:
    """The largest ``|onnxruntime − torch|`` over ``sizes`` × ``batches`` random inputs."""
    require("onnxruntime")
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    channels = int(generator.in_channels or 3)
    rng = torch.Generator().manual_seed(seed)
    worst = 0.0
    generator = generator.eval()
    for h, w in sizes:
        for n in batches:
            x = torch.rand(n, channels, h, w, generator=rng) * 2 - 1
            with torch.no_grad():
                expected = generator(x)
            (got,) = session.run(None, {"image": x.numpy()})
            if tuple(got.shape) != tuple(expected.shape):
                raise ExportError(
                    f"onnxruntime gave shape {tuple(got.shape)} for input {tuple(x.shape)}; "
                    f"PyTorch gives {tuple(expected.shape)}"
                )
            worst = max(worst, float((torch.from_numpy(got) - expected).abs().max()))
    return worst
