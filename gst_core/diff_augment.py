"""Differentiable augmentation for the discriminator (DiffAugment; Zhao et al., NeurIPS 2020).

Part of the plugin surface: every built-in adversarial objective takes
``[objective] augment = "color,translation,cutout"`` (any subset), and a
plugin's objective can use :class:`DiffAugment` the same way. With little
data (50-200 images) a discriminator memorises the real set within minutes;
showing it randomly shifted, recoloured and cut-out images -- real *and*
generated, through the same differentiable transform, so the generator's
gradients flow through it -- keeps it from doing so.

The ops and their ranges are those of the authors' ``DiffAugment_pytorch.py``
on images in ``[-1, 1]``:

* ``color``: brightness ``+U(-0.5, 0.5)``, then saturation ``×U(0, 2)`` about
  the per-pixel channel mean, then contrast ``×U(0.5, 1.5)`` about the image mean;
* ``translation``: a shift by up to 1/8 of the height and width, zeros filling in;
* ``cutout``: a zeroed square of half the height and width at a random centre
  (cut off at the border).

One call draws one set of per-sample parameters and applies it to every
batch it is given: ``real, fake = augment(real, fake)`` transforms ``real[i]``
and ``fake[i]`` alike (a batch of ``k·n`` rows reuses the ``n`` draws ``k``
times). For a conditional discriminator (pix2pix) that keeps each condition
aligned with its image. The generator's update draws afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gst_core.errors import GstError

__all__ = ["OPS", "AugmentParams", "DiffAugment", "parse_policy"]

OPS = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


class AugmentError(GstError, ValueError):
    """An augment policy names an unknown op."""


def parse_policy(policy: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"color,translation"`` (or a list) → the ops in order; ``None``/``""`` → none."""
    if policy is None or policy == "" or policy is False:
        return ()
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    ops = tuple(str(n).strip() for n in names if str(n).strip())
    unknown = [op for op in ops if op not in OPS]
    if unknown or not isinstance(policy, str | Sequence):
        raise AugmentError(
            f"augment: unknown op(s) {unknown or policy!r}; choose from {', '.join(OPS)}, "
            'comma-separated, e.g. augment = "color,translation,cutout"'
        )
    return ops


@dataclass
class AugmentParams:
    """Per-sample draws for ``n`` samples (each a tensor of ``n`` rows, or ``None`` if off)."""

    brightness: Tensor | None = None  # (n,) in [-0.5, 0.5)
    saturation: Tensor | None = None  # (n,) in [0, 2)
    contrast: Tensor | None = None  # (n,) in [0.5, 1.5)
    shift: Tensor | None = None  # (n, 2) integer rows, columns
    cutout: Tensor | None = None  # (n, 2) integer centre row, column


def _repeat(values: Tensor, rows: int) -> Tensor:
    n = values.shape[0]
    if rows % n:
        raise ValueError(f"a batch of {rows} cannot reuse the draws of {n} samples")
    return values.repeat((rows // n,) + (1,) * (values.dim() - 1))


def translate(x: Tensor, shift: Tensor) -> Tensor:
    """``out[b, :, i, j] = x[b, :, i + dy, j + dx]`` (zero outside), ``shift[b] = (dy, dx)``."""
    b, _, h, w = x.shape
    rows = torch.arange(h, device=x.device).view(1, h, 1) + shift[:, 0].view(b, 1, 1) + 1
    cols = torch.arange(w, device=x.device).view(1, 1, w) + shift[:, 1].view(b, 1, 1) + 1
    rows, cols = rows.clamp(0, h + 1), cols.clamp(0, w + 1)  # the zero border of the pad
    padded = F.pad(x, [1, 1, 1, 1])
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cut_out(x: Tensor, centre: Tensor) -> Tensor:
    """``x`` with a zeroed ``(H/2, W/2)`` rectangle about ``centre[b]``, clipped at the border."""
    b, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    top = (centre[:, 0] - ch // 2).view(b, 1, 1)
    left = (centre[:, 1] - cw // 2).view(b, 1, 1)
    i = torch.arange(h, device=x.device).view(1, h, 1)
    j = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (i >= top) & (i < top + ch) & (j >= left) & (j < left + cw)
    return x * (~inside).to(x.dtype).unsqueeze(1)


class DiffAugment:
    """``augment(*batches)``: one per-sample draw applied to each batch (see the module)."""

    def __init__(self, policy: str | Sequence[str] | None = None) -> None:
        self.ops = parse_policy(policy)

    def __bool__(self) -> bool:
        return bool(self.ops)

    @property
    def policy(self) -> str:
        return ",".join(self.ops)

    def draw(
        self,
        n: int,
        height: int,
        width: int,
        device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ) -> AugmentParams:
        """Parameters for ``n`` samples of ``height × width`` (from torch's global RNG unless
        ``generator`` is given)."""
        params = AugmentParams()

        def uniform() -> Tensor:
            return torch.rand(n, generator=generator, device=device)

        if "color" in self.ops:
            params.brightness = uniform() - 0.5
            params.saturation = uniform() * 2
            params.contrast = uniform() + 0.5
        if "translation" in self.ops:
            sy, sx = int(height * TRANSLATION_RATIO + 0.5), int(width * TRANSLATION_RATIO + 0.5)
            params.shift = torch.stack(
                [
                    torch.randint(-sy, sy + 1, (n,), generator=generator, device=device),
                    torch.randint(-sx, sx + 1, (n,), generator=generator, device=device),
                ],
                1,
            )
        if "cutout" in self.ops:
            ch, cw = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
            params.cutout = torch.stack(
                [
                    torch.randint(
                        0, height + (1 - ch % 2), (n,), generator=generator, device=device
                    ),
                    torch.randint(
                        0, width + (1 - cw % 2), (n,), generator=generator, device=device
                    ),
                ],
                1,
            )
        return params

    def apply(self, x: Tensor, params: AugmentParams) -> Tensor:
        """``x`` (``(k·n, C, H, W)``) transformed by ``params`` (drawn for ``n`` samples)."""
        rows = x.shape[0]
        for op in self.ops:
            if op == "color":
                assert params.brightness is not None
                assert params.saturation is not None and params.contrast is not None
                x = x + _repeat(params.brightness, rows).view(-1, 1, 1, 1).to(x.dtype)
                mean = x.mean(dim=1, keepdim=True)
                x = (x - mean) * _repeat(params.saturation, rows).view(-1, 1, 1, 1) + mean
                mean = x.mean(dim=[1, 2, 3], keepdim=True)
                x = (x - mean) * _repeat(params.contrast, rows).view(-1, 1, 1, 1) + mean
            elif op == "translation":
                assert params.shift is not None
                x = translate(x, _repeat(params.shift, rows))
            elif op == "cutout":
                assert params.cutout is not None
                x = cut_out(x, _repeat(params.cutout, rows))
        return x

    def __call__(self, *batches: Tensor, generator: torch.Generator | None = None):
        """Each of ``batches`` augmented with one draw for the first batch's rows; a single
        batch is returned as a tensor, several as a tuple. No op: the batches unchanged."""
        if not self.ops:
            return batches[0] if len(batches) == 1 else batches
        first = batches[0]
        params = self.draw(first.shape[0], *first.shape[-2:], first.device, generator)
        out = tuple(self.apply(b, params) for b in batches)
        return out[0] if len(out) == 1 else out
