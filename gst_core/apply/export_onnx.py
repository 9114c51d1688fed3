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
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from gst_core.errors import GstError

__all__ = ["ExportError", "compare_with_onnxruntime", "exportable", "export_onnx", "require"]

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
    """``generator(x)`` without the optional labels argument, so the graph has one input,
    padded to the generator's ``size_multiple`` and cropped back inside the graph.

    A U-Net runs only at multiples of ``2**num_downs``; without this its export claimed
    dynamic H and W and failed at every other size (issue 20). The pad is edge replication,
    with no branch on the size: ``gst translate`` reflects where the pad is smaller than
    the side, which a graph for every size cannot choose, so the two may differ in the
    padded border's influence on the last rows and columns.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        # A generator that pads itself (transformer_net: reflection, inside its forward) is
        # exported as it is, so the ONNX model computes exactly what its forward does.
        pads_itself = bool(getattr(generator, "pads_itself", False))
        self.multiple = 1 if pads_itself else int(getattr(generator, "size_multiple", 1) or 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.multiple <= 1:
            return self.generator(image)
        h, w = image.shape[-2:]
        m = self.multiple
        # Rounded up by integer division (a form torch.export's symbolic shapes follow).
        pad_h, pad_w = (h + m - 1) // m * m - h, (w + m - 1) // m * m - w
        padded = torch.nn.functional.pad(image, (0, pad_w, 0, pad_h), mode="replicate")
        return self.generator(padded)[..., :h, :w]


def exportable(generator: nn.Module) -> nn.Module:
    """The module :func:`export_onnx` writes: ``generator`` taking any size, in eval mode."""
    return _ImageOnly(generator.eval()).eval()


def export_onnx(
    generator: nn.Module,
    path: str | os.PathLike[str],
    *,
    example_size: tuple[int, int] = (64, 64),
    opset: int | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``generator`` (eval mode) to ``path``; input ``image`` ``(N, C, H, W)`` in [-1, 1].

    ``check(temporary_path)`` runs on the written file before it gets its name (e.g.
    :func:`compare_with_onnxruntime`); if it raises, no file is left behind.
    """
    require("onnx", "onnxscript")
    import onnx

    channels = int(getattr(generator, "in_channels", 3))
    generator = generator.eval()
    # Traced at a size that needs padding, so the pad is in the graph; every size goes
    # through the same graph because it pads and crops without branching on the size.
    h, w = (s + 1 for s in example_size)
    example = torch.rand(2, channels, h, w) * 2 - 1
    # DYNAMIC, not named Dims: a U-Net's guards (e.g. a side above one multiple) would make
    # named Dims fail the export; onnxruntime is then checked on unseen sizes instead.
    dims = {0: torch.export.Dim.DYNAMIC, 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    kwargs = {"opset_version": opset} if opset else {}
    # torch's exporter logs a line per torchvision op it cannot register; gst has none.
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch-internal deprecations
            program = torch.onnx.export(
                exportable(generator),
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
        if check is not None:
            check(tmp)
    except ExportError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # torch.export / onnx errors come in many types
        tmp.unlink(missing_ok=True)
        raise ExportError(
            f"exporting {type(generator).__name__} to ONNX failed: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    os.replace(tmp, path)
    return path


def compare_with_onnxruntime(
    generator: nn.Module,
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
    channels = int(getattr(generator, "in_channels", 3))
    rng = torch.Generator().manual_seed(seed)
    worst = 0.0
    generator = exportable(generator)
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
