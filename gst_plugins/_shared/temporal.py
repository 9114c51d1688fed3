"""Compound regularisation for temporally stable feed-forward stylisation (no video needed).

Wang et al., "Consistent Video Style Transfer via Compound Regularization" (AAAI 2020):
warp a training image by a random smooth flow ``W`` and add a little noise ``Δ``, then ask
that stylising commutes with the motion: ``G(W(x) + Δ) ≈ W(G(x))``. A network trained so
flickers less on video, without optical-flow networks or video data. Pixels whose source
``p + W(p)`` lies outside the frame are left out of the mean: there ``W(G(x))`` only repeats
the edge, which no network can match, and asking it to would only teach it to smear.

``temporal_start`` delays the term by that many steps, so the style is learnt first and then
kept stable, as the reference code does (it adds the term to a half-trained network).

One implementation for every objective that offers ``[objective] temporal_weight``
(fast_style, gan_style, adain, cyclegan): :class:`TemporalTerm` holds the options and
computes the term; the flows and the noise come from the objective's own seeded
``torch.Generator`` (checkpointed with it), so a resumed run draws the same motions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gst_core.errors import TrainingSetupError

__all__ = [
    "WARP_MODES",
    "TemporalTerm",
    "compound_temporal_loss",
    "inside_frame",
    "random_smooth_flow",
    "warp_images",
]


def _rand(shape: tuple[int, ...], rng: torch.Generator | None, device, normal=False) -> Tensor:
    """Uniform [0, 1) (or standard normal) numbers from ``rng`` on its own device, moved to
    ``device``: a CPU generator's stream is the same whichever device trains."""
    draw = torch.randn if normal else torch.rand
    if rng is None:
        return draw(shape, device=device)
    return draw(shape, generator=rng, device=rng.device).to(device)


def random_smooth_flow(
    batch: int,
    height: int,
    width: int,
    *,
    max_shift: float,
    device=None,
    grid: int = 4,
    rng: torch.Generator | None = None,
) -> Tensor:
    """Flows ``(B, H, W, 2)`` in pixels (x, y): a random global shift plus a smooth field
    (random values on a ``grid × grid`` lattice, upsampled bicubically), at most about
    ``max_shift`` pixels. Drawn from ``rng`` (the global stream when None)."""
    shift = (_rand((batch, 2, 1, 1), rng, device) * 2 - 1) * (max_shift / 2)
    field = (_rand((batch, 2, grid, grid), rng, device) * 2 - 1) * (max_shift / 2)
    smooth = F.interpolate(field, size=(height, width), mode="bicubic", align_corners=True)
    return (shift + smooth).permute(0, 2, 3, 1)


#: How the term samples a warped image: "bilinear" or "nearest" (each pixel moved whole).
WARP_MODES = ("bilinear", "nearest")


def warp_images(images: Tensor, flow: Tensor, mode: str = "bilinear") -> Tensor:
    """``images`` ``(B, C, H, W)`` sampled at ``p + flow(p)`` (``mode``: bilinear, or the
    nearest pixel; edges repeated)."""
    _, _, h, w = images.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=images.device, dtype=flow.dtype),
        torch.arange(w, device=images.device, dtype=flow.dtype),
        indexing="ij",
    )
    x = (xs + flow[..., 0]) * (2 / max(w - 1, 1)) - 1
    y = (ys + flow[..., 1]) * (2 / max(h - 1, 1)) - 1
    grid = torch.stack([x, y], dim=-1).to(images.dtype)
    return F.grid_sample(images, grid, mode=mode, padding_mode="border", align_corners=True)


def inside_frame(flow: Tensor) -> Tensor:
    """``(B, 1, H, W)``: 1 where ``p + flow(p)`` lies inside the frame (its source pixel
    exists), 0 where :func:`warp_images` can only repeat the edge."""
    _, h, w, _ = flow.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, device=flow.device, dtype=flow.dtype),
        torch.arange(w, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    x, y = xs + flow[..., 0], ys + flow[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return inside[:, None].to(flow.dtype)


def compound_temporal_loss(
    network: Callable[[Tensor], Tensor],
    images: Tensor,
    stylised: Tensor,
    *,
    max_shift: float = 8.0,
    noise: float = 0.02,
    rng: torch.Generator | None = None,
    warp: str = "bilinear",
) -> Tensor:
    """``mean((G(W(x) + Δ) − W(G(x)))²)`` over the pixels whose source is inside the frame,
    for a fresh random smooth flow ``W`` and Gaussian noise ``Δ`` of std ``noise`` (images
    in [-1, 1]; ``stylised`` is ``G(images)``), both drawn from ``rng``.

    ``warp="nearest"`` moves whole pixels, as the reference code does: a bilinear ``W``
    blurs the target ``W(G(x))`` wherever the flow is fractional, so matching it asks the
    network for a softer texture as well as a stable one. (On ``bench_temporal.py``, 3 seeds
    at 480 CPU-s, the two cost the same style for the same flicker: README, Video.)"""
    b, _, h, w = images.shape
    flow = random_smooth_flow(b, h, w, max_shift=max_shift, device=images.device, rng=rng)
    delta = _rand(tuple(images.shape), rng, images.device, normal=True).to(images.dtype)
    moved = warp_images(images, flow, warp) + noise * delta
    target = warp_images(stylised.float(), flow.float(), warp)
    squared = (network(moved).float() - target) ** 2
    inside = inside_frame(flow.float())
    # Every channel of every inside pixel counts once; a flow wholly outside gives 0.
    return (squared * inside).sum() / (inside.sum() * squared.shape[1]).clamp_min(1)


@dataclass(frozen=True)
class TemporalTerm:
    """The ``[objective]`` options ``temporal_weight`` (0: off), ``temporal_shift`` (the
    flows' size in pixels), ``temporal_noise`` (the noise's std on [-1, 1] images),
    ``temporal_samples`` (how many of each batch's samples the term covers; 0: all),
    ``temporal_start`` (the step from which it applies; 0: from the first) and
    ``temporal_warp`` (how the flow samples: "bilinear" or "nearest")."""

    weight: float = 0.0
    shift: float = 8.0
    noise: float = 0.02
    samples: int = 0
    start: int = 0
    warp: str = "bilinear"

    @classmethod
    def checked(
        cls,
        owner: str,
        weight: float = 0.0,
        shift: float = 8.0,
        noise: float = 0.02,
        samples: int = 0,
        *,
        start: int = 0,
        warp: str = "bilinear",
    ) -> TemporalTerm:
        for name, value, zero in (
            ("temporal_samples", samples, "the whole batch"),
            ("temporal_start", start, "from the first step"),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TrainingSetupError(
                    f"{owner}: [objective] {name} must be an integer >= 0 (0: {zero}), "
                    f"got {value!r}"
                )
        for name, value in (
            ("temporal_weight", weight),
            ("temporal_shift", shift),
            ("temporal_noise", noise),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise TrainingSetupError(
                    f"{owner}: [objective] {name} must be a number >= 0, got {value!r}"
                )
        if warp not in WARP_MODES:
            raise TrainingSetupError(
                f"{owner}: [objective] temporal_warp must be one of {', '.join(WARP_MODES)}, "
                f"got {warp!r}"
            )
        return cls(float(weight), float(shift), float(noise), samples, start, warp)

    def __bool__(self) -> bool:
        return self.weight > 0

    def active(self, step: int) -> bool:
        """Whether the term applies at ``step`` (the trainer's count, from 0)."""
        return self.weight > 0 and step >= self.start

    def options(self) -> dict[str, float | int | str]:
        """The ``[objective]`` options that are set, for the objective's config."""
        if not self:
            return {}
        out: dict[str, float | int | str] = {
            "temporal_weight": self.weight,
            "temporal_shift": self.shift,
            "temporal_noise": self.noise,
        }
        if self.samples:
            out["temporal_samples"] = self.samples
        if self.start:
            out["temporal_start"] = self.start
        if self.warp != TemporalTerm.warp:  # the default is left out, as for the others
            out["temporal_warp"] = self.warp
        return out

    def loss(
        self,
        network: Callable[[Tensor], Tensor],
        images: Tensor,
        outputs: Tensor,
        rng: torch.Generator,
    ) -> Tensor:
        """The unweighted term for ``outputs = network(images)`` (both on [-1, 1]).

        With ``samples`` set, only the batch's first ``samples`` items enter it: the term's
        cost is a second forward and backward of ``network``, so covering part of the batch
        makes it cheaper (batches are drawn at random, so the first items are a fair pick);
        ``outputs`` is reused, so the un-warped images need no second forward."""
        if 0 < self.samples < len(images):
            images, outputs = images[: self.samples], outputs[: self.samples]
        return compound_temporal_loss(
            network,
            images,
            outputs,
            max_shift=self.shift,
            noise=self.noise,
            rng=rng,
            warp=self.warp,
        )
