"""Kernel distance (KID): the unbiased MMD² under a cubic polynomial kernel.

Bińkowski et al. (2018): with ``k(x, y) = (γ xᵀy + c)^d`` (``γ = 1/D``,
``c = 1``, ``d = 3``) and ``m`` samples per side,

    MMD²ᵤ = [Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)] / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m²,

averaged over ``subsets`` random subsets of ``m = subset_size`` samples
drawn without replacement from each side; the spread over subsets is the
reported ``std`` (population standard deviation, as torchmetrics). Unlike
FID it is unbiased, so it can be compared across sample counts, and it may
be slightly negative when the two sets are alike.

Fewer samples than ``subset_size``: by default (``on_small="warn"``) a
:class:`SmallSampleWarning` says so and ``m`` becomes the smaller side's
size, as clean-fid does (then, when both sides have exactly ``m`` samples,
every subset is the whole set and ``std`` is 0). ``on_small="raise"`` raises
:class:`~gst_core.metrics.errors.MetricError` instead.

Streaming: KID needs the individual feature vectors (subsets are drawn
from them), so :class:`KIDAccumulator` keeps every feature it is given, in
float64 (``8·N·D`` bytes per side: 160 MB for 10 000 × 2048).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from gst_core.metrics.errors import MetricError
from gst_core.metrics.frechet import as_features

__all__ = ["KIDAccumulator", "SmallSampleWarning", "kernel_distance", "polynomial_mmd"]


class SmallSampleWarning(UserWarning):
    """KID was asked for subsets larger than the feature sets; it used smaller ones."""


def polynomial_mmd(
    x: Tensor, y: Tensor, *, degree: int = 3, gamma: float | None = None, coef: float = 1.0
) -> float:
    """Unbiased MMD² between two equally sized sets ``(m, D)`` under the polynomial kernel."""
    m = x.shape[0]
    if y.shape[0] != m:
        raise MetricError(f"polynomial_mmd needs equal set sizes, got {m} and {y.shape[0]}")
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (x @ x.T * gamma + coef) ** degree
    k_yy = (y @ y.T * gamma + coef) ** degree
    k_xy = (x @ y.T * gamma + coef) ** degree
    within = (k_xx.sum() - k_xx.diagonal().sum()) + (k_yy.sum() - k_yy.diagonal().sum())
    return float(within / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kernel_distance(
    real: Any,
    fake: Any,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    on_small: Literal["warn", "raise"] = "warn",
) -> tuple[float, float]:
    """KID between two feature sets ``(N, D)`` (torch or numpy): ``(mean, std)`` over subsets.

    Subsets are drawn with ``numpy.random.default_rng(seed)``, so a seed gives
    the same value on every run and machine.
    """
    x = as_features(real, "real features")
    y = as_features(fake, "fake features")
    if x.shape[1] != y.shape[1]:
        raise MetricError(
            f"real features have {x.shape[1]} dimensions and fake ones {y.shape[1]}; compute "
            "both with the same feature extractor"
        )
    if subsets < 1 or subset_size < 2:
        raise MetricError(
            f"KID needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}"
        )
    m = min(x.shape[0], y.shape[0], subset_size)
    if m < 2:
        raise MetricError(
            f"KID needs at least 2 samples per side, got {x.shape[0]} real and {y.shape[0]} fake"
        )
    if m < subset_size:
        message = (
            f"KID subset_size={subset_size} but only {x.shape[0]} real and {y.shape[0]} fake "
            f"samples are available"
        )
        if on_small == "raise":
            raise MetricError(f"{message}; add samples or lower subset_size")
        warnings.warn(f"{message}; using subsets of {m}", SmallSampleWarning, stacklevel=2)
    rng = np.random.default_rng(seed)
    if m == x.shape[0] == y.shape[0]:
        # Every subset is the whole set: one evaluation gives them all, and no spread.
        return polynomial_mmd(x, y, degree=degree, gamma=gamma, coef=coef), 0.0
    values = np.empty(subsets)
    for i in range(subsets):
        xi = torch.from_numpy(rng.choice(x.shape[0], m, replace=False))
        yi = torch.from_numpy(rng.choice(y.shape[0], m, replace=False))
        values[i] = polynomial_mmd(x[xi], y[yi], degree=degree, gamma=gamma, coef=coef)
    return float(values.mean()), float(values.std())


class KIDAccumulator:
    """Streaming KID: ``update(features, real=...)`` per batch, then ``compute()``.

    Keeps every feature vector (float64), since subsets are drawn from them;
    ``merge`` concatenates, ``sync`` all-gathers under torch.distributed.
    ``compute`` takes :func:`kernel_distance`'s keyword arguments, and with
    the same seed gives exactly the one-call value.
    """

    def __init__(self, real: Any = None) -> None:
        self._real: list[Tensor] = [] if real is None else [as_features(real, "real features")]
        self._fake: list[Tensor] = []

    def update(self, features: Any, *, real: bool) -> KIDAccumulator:
        (self._real if real else self._fake).append(
            as_features(features, "real features" if real else "fake features")
        )
        return self

    @staticmethod
    def _cat(parts: list[Tensor], what: str) -> Tensor:
        if not parts:
            raise MetricError(f"no {what} features were added; call update(..., real=...) first")
        return torch.cat(parts)

    @property
    def real(self) -> Tensor:
        return self._cat(self._real, "real")

    @property
    def fake(self) -> Tensor:
        return self._cat(self._fake, "fake")

    def reset_fake(self) -> None:
        self._fake = []

    def merge(self, other: KIDAccumulator) -> KIDAccumulator:
        self._real.extend(other._real)
        self._fake.extend(other._fake)
        return self

    def compute(self, **kwargs: Any) -> tuple[float, float]:
        return kernel_distance(self.real, self.fake, **kwargs)

    def sync(self, group: Any = None) -> KIDAccumulator:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self
        mine = {"real": self._real, "fake": self._fake}
        gathered: list[Any] = [None] * dist.get_world_size(group)
        dist.all_gather_object(gathered, mine, group=group)
        self._real = [t for part in gathered for t in part["real"]]
        self._fake = [t for part in gathered for t in part["fake"]]
        return self

    def state_dict(self) -> dict[str, Tensor]:
        empty = torch.empty(0, 0, dtype=torch.float64)
        return {
            "real": torch.cat(self._real) if self._real else empty,
            "fake": torch.cat(self._fake) if self._fake else empty,
        }

    def load_state_dict(self, state: Mapping[str, Tensor]) -> KIDAccumulator:
        self._real = [state["real"]] if state["real"].numel() else []
        self._fake = [state["fake"]] if state["fake"].numel() else []
        return self
