"""InceptionV3 as used for FID: the network of pytorch-fid / TensorFlow's FID code.

Published FID values come from the TensorFlow Inception graph of 2015-12-05,
which pytorch-fid ported to PyTorch as ``pt_inception-2015-12-05-6726825d.pth``.
That graph differs from torchvision's InceptionV3 in small ways that change
the numbers: average pools in the A, C and first E blocks do not count the
zero padding, the last E block max-pools, and the classifier has 1008
classes. :class:`InceptionV3FID` builds that architecture with the same
module names, so the file's state dict loads as it is, and returns the
2048-d average-pooled activations (pytorch-fid's default block 3).

Inputs are RGB in ``[0, 1]``, resized to 299×299 by bilinear interpolation
(``torch.nn.functional.interpolate``, ``align_corners=False``, no
antialiasing) exactly as pytorch-fid does, then scaled to ``[-1, 1]``.

Weights, first match wins (nothing is downloaded):

1. the ``weights=`` argument (``gst eval --weights``);
2. the environment variable ``GST_INCEPTION_WEIGHTS``;
3. ``pt_inception-2015-12-05-*.pth`` in torch's hub cache
   (``torch.hub.get_dir()/checkpoints/``), where pytorch-fid leaves it.

Pooled-extractor contract (what the FID/KID metrics need): ``forward``
returns ``{"pool": (B, D)}``, ``layers == ("pool",)``, and the class states
``input_size`` (the ``(H, W)`` images are resized to before batching) and
``resize_method`` (a sentence for the user).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gst_core.interfaces import FeatureExtractor

from .weights import WeightsError

__all__ = ["ENV_VAR", "FILE_GLOB", "InceptionV3FID", "find_inception_weights"]

ENV_VAR = "GST_INCEPTION_WEIGHTS"
FILE_GLOB = "pt_inception-2015-12-05-*.pth"


def find_inception_weights(weights: str | os.PathLike[str] | None = None) -> Path | None:
    """The FID Inception weights file to use (see the module docstring), or ``None``."""
    if weights is not None:
        return Path(weights)
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return Path(from_env)
    cached = sorted((Path(torch.hub.get_dir()) / "checkpoints").glob(FILE_GLOB))
    return cached[0] if cached else None


class _Conv(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, as TensorFlow), ReLU.

    The attribute names ``conv`` and ``bn`` are those of the weights file."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], **kw: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, bias=False, **kw)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _tf_avg_pool(x: Tensor) -> Tensor:
    # TensorFlow's 3×3 average pool ignores the zero padding in its mean.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):  # Mixed_5b/5c/5d: 35×35
    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(cin, 64, 1)
        self.branch5x5_1 = _Conv(cin, 48, 1)
        self.branch5x5_2 = _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(cin, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_tf_avg_pool(x)),
            ],
            1,
        )


class _BlockB(nn.Module):  # Mixed_6a: 35×35 → 17×17
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(cin, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class _BlockC(nn.Module):  # Mixed_6b..6e: 17×17, factorised 7×7
    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(cin, 192, 1)
        self.branch7x7_1 = _Conv(cin, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _Conv(cin, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            d7 = layer(d7)
        return torch.cat([self.branch1x1(x), b7, d7, self.branch_pool(_tf_avg_pool(x))], 1)


class _BlockD(nn.Module):  # Mixed_7a: 17×17 → 8×8
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = _Conv(cin, 192, 1)
        self.branch3x3_2 = _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(cin, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b7 = x
        for layer in (
            self.branch7x7x3_1,
            self.branch7x7x3_2,
            self.branch7x7x3_3,
            self.branch7x7x3_4,
        ):
            b7 = layer(b7)
        return torch.cat(
            [
                self.branch3x3_2(self.branch3x3_1(x)),
                b7,
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class _BlockE(nn.Module):  # Mixed_7b/7c: 8×8, expanded filter banks
    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        # The FID graph's last block max-pools where the paper (and torchvision) average.
        self.max_pool = max_pool
        self.branch1x1 = _Conv(cin, 320, 1)
        self.branch3x3_1 = _Conv(cin, 384, 1)
        self.branch3x3_2a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _Conv(cin, 448, 1)
        self.branch3x3dbl_2 = _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _Conv(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_1(x)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = (
            F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            if self.max_pool
            else _tf_avg_pool(x)
        )
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(b3),
                self.branch3x3_2b(b3),
                self.branch3x3dbl_3a(d3),
                self.branch3x3dbl_3b(d3),
                self.branch_pool(pooled),
            ],
            1,
        )


class InceptionV3FID(FeatureExtractor):
    """The FID InceptionV3 (pytorch-fid's weights), returning ``{"pool": (B, 2048)}``.

    Args:
        layers: only ``("pool",)``.
        weights: path of ``pt_inception-2015-12-05-*.pth`` (else ``GST_INCEPTION_WEIGHTS``,
            else torch's hub cache). Without a file, :class:`WeightsError` says how to get one.
            ``"random"`` keeps PyTorch's default initialisation (structure tests, timing):
            its features measure nothing.
    """

    available_layers: ClassVar[tuple[str, ...]] = ("pool",)
    input_size: ClassVar[tuple[int, int]] = (299, 299)
    resize_method: ClassVar[str] = (
        "bilinear resize to 299x299 (torch interpolate, align_corners=False, as pytorch-fid)"
    )
    comparable: ClassVar[bool] = True  # with the FID weights: values comparable with papers

    def __init__(
        self,
        layers: Sequence[str] | None = None,
        *,
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        if layers is not None and tuple(layers) != ("pool",):
            raise WeightsError(f"InceptionV3FID has one tap, 'pool'; got layers={list(layers)}")
        self.layers = ("pool",)
        self.Conv2d_1a_3x3 = _Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = _Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b = _BlockA(192, 32)
        self.Mixed_5c = _BlockA(256, 64)
        self.Mixed_5d = _BlockA(288, 64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, 128)
        self.Mixed_6c = _BlockC(768, 160)
        self.Mixed_6d = _BlockC(768, 160)
        self.Mixed_6e = _BlockC(768, 192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.weights_path: Path | None = None
        random = isinstance(weights, str) and weights == "random"
        path = None if random else find_inception_weights(weights)
        if path is not None:
            self.load_weights(path)
        elif not random:
            raise WeightsError(
                "the FID InceptionV3 needs pytorch-fid's weights file "
                f"({FILE_GLOB}, 91 MB) and nothing is downloaded: pass weights=PATH "
                f"(gst eval --weights PATH) or set {ENV_VAR}=PATH, or use the offline "
                "'random_pool' extractor (values not comparable with published FID)"
            )
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def find_weights(weights: str | os.PathLike[str] | None = None) -> Path | None:
        """Where the weights would come from (see the module docstring), or ``None``."""
        return find_inception_weights(weights)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load a pytorch-fid Inception state dict (``fc.*`` and BN counters are optional)."""
        path = Path(path)
        if not path.is_file():
            raise WeightsError(
                f"InceptionV3 weights file {str(path)!r} does not exist; fix the path given "
                f"by weights= / --weights or {ENV_VAR}"
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            reason = str(exc).split(". ")[0].splitlines()[0] if str(exc) else ""
            raise WeightsError(
                f"cannot read InceptionV3 weights {str(path)!r} ({type(exc).__name__}: "
                f"{reason}); expected pytorch-fid's {FILE_GLOB} state dict"
            ) from exc
        if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
            raise WeightsError(f"{str(path)!r} does not hold a state dict of tensors")
        # The classifier (1008 classes) is not used for features.
        state = {k: v for k, v in state.items() if not k.startswith(("fc.", "AuxLogits."))}
        own = self.state_dict()
        missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in own]
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        if missing or unexpected or wrong:
            parts = []
            for label, keys in (("missing", missing), ("unexpected", unexpected)):
                if keys:
                    parts.append(f"{len(keys)} {label} keys ({', '.join(keys[:4])}, ...)")
            if wrong:
                k = wrong[0]
                parts.append(
                    f"{len(wrong)} of the wrong shape ({k}: {tuple(state[k].shape)} in the "
                    f"file, {tuple(own[k].shape)} here)"
                )
            raise WeightsError(
                f"{str(path)!r} is not pytorch-fid's FID Inception state dict: " + "; ".join(parts)
            )
        self.load_state_dict(state, strict=False)
        self.weights_path = path

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        x = images
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        return {"pool": x.mean((2, 3))}
