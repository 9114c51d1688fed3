"""Precision, recall, density and coverage: quality and coverage measured apart.

FID mixes "looks real" and "covers the data" into one number. These four
split them, from k-nearest-neighbour balls in feature space:

* **precision** (Kynkäänniemi et al., NeurIPS 2019): the share of fake samples
  inside at least one real sample's ball, the ball of a real sample ``x``
  having radius ``NND_k(x)``, the distance to its k-th nearest other real
  sample. "Looks real."
* **recall** (same paper): the share of real samples inside at least one fake
  sample's k-NN ball (radii from the fake set). "Covers the data."
* **density** (Naeem et al., ICML 2020): ``1/(k·M) Σ_j Σ_i 1[y_j ∈ B(x_i)]``,
  how many real balls hold each fake on average, divided by k: near 1 when
  fakes are distributed like the reals, above 1 when they crowd dense regions.
* **coverage** (same paper): the share of real samples whose own ball holds at
  least one fake. Robust to outliers among the fakes, unlike recall.

A generator that collapsed onto a few modes keeps a high precision and loses
recall and coverage.

Balls are closed (``d ≤ radius``), as the papers define them; clovaai's
``prdc`` package uses ``<``, which differs only for exact ties. Distances are
Euclidean in float64, computed in blocks of rows so that the ``N × M``
distance matrix is never held whole (memory ``O(block · max(N, M))``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from gst_core.metrics.errors import MetricError

__all__ = [
    "PRDC",
    "expected_coverage",
    "feature_spread",
    "kth_neighbour_radii",
    "per_class_recall",
    "prdc",
]

#: Rows of the distance matrix computed at once (2048 × 10000 float64 is 160 MB).
BLOCK = 2048


@dataclass(frozen=True)
class PRDC:
    """The four values, with what they were measured on."""

    precision: float
    recall: float
    density: float
    coverage: float
    k: int
    real_count: int
    fake_count: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _as_float64(features: Tensor | np.ndarray, which: str) -> Tensor:
    x = torch.as_tensor(features).detach().to("cpu", torch.float64)
    if x.ndim != 2:
        raise MetricError(f"{which} features must be (N, D), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise MetricError(f"{which} features contain NaN or infinity")
    return x


def _blocks(n: int) -> Iterator[slice]:
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


def kth_neighbour_radii(features: Tensor, k: int) -> Tensor:
    """Distance from each row to its k-th nearest *other* row (float64, ``(N,)``)."""
    n = features.shape[0]
    radii = torch.empty(n, dtype=torch.float64)
    for rows in _blocks(n):
        d = torch.cdist(features[rows], features)
        # Column 0 of the sorted row is the point itself (distance 0); column k is the
        # k-th other point. A duplicate of the point also sits at 0, as in the papers.
        radii[rows] = d.kthvalue(k + 1, dim=1).values
    return radii


def _check(real: Tensor, fake: Tensor, k: int) -> None:
    if real.shape[1] != fake.shape[1]:
        raise MetricError(
            f"real and fake features differ in width ({real.shape[1]} vs {fake.shape[1]}); "
            "measure both with the same extractor"
        )
    if not isinstance(k, int) or k < 1:
        raise MetricError(f"k must be an integer >= 1, got {k!r}")
    for name, x in (("real", real), ("fake", fake)):
        if x.shape[0] <= k:
            raise MetricError(
                f"{name} has {x.shape[0]} samples; k-nearest-neighbour balls with k={k} need "
                f"more than {k} (use more images or a smaller --k)"
            )


def prdc(real: Tensor | np.ndarray, fake: Tensor | np.ndarray, k: int = 5) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (``(N, D)`` each).

    ``k = 5`` is both papers' recommendation for a few thousand samples per set.
    """
    real_x, fake_x = _as_float64(real, "real"), _as_float64(fake, "fake")
    _check(real_x, fake_x, k)
    real_radii = kth_neighbour_radii(real_x, k)
    fake_radii = kth_neighbour_radii(fake_x, k)

    fake_in_real_ball = torch.zeros(fake_x.shape[0], dtype=torch.bool)
    balls_per_fake = torch.zeros(fake_x.shape[0], dtype=torch.float64)
    nearest_fake = torch.full((real_x.shape[0],), float("inf"), dtype=torch.float64)
    real_in_fake_ball = torch.zeros(real_x.shape[0], dtype=torch.bool)
    for rows in _blocks(real_x.shape[0]):
        d = torch.cdist(real_x[rows], fake_x)  # (block of reals, M)
        inside = d <= real_radii[rows, None]  # fake j inside real i's ball
        fake_in_real_ball |= inside.any(dim=0)
        balls_per_fake += inside.sum(dim=0, dtype=torch.float64)
        nearest_fake[rows] = d.min(dim=1).values
        real_in_fake_ball[rows] = (d <= fake_radii[None, :]).any(dim=1)

    return PRDC(
        precision=float(fake_in_real_ball.double().mean()),
        recall=float(real_in_fake_ball.double().mean()),
        density=float(balls_per_fake.sum() / (k * fake_x.shape[0])),
        coverage=float((nearest_fake <= real_radii).double().mean()),
        k=k,
        real_count=int(real_x.shape[0]),
        fake_count=int(fake_x.shape[0]),
    )


def expected_coverage(real_count: int, fake_count: int, k: int = 5) -> float:
    """Coverage of fakes drawn from the real distribution itself (Naeem et al. 2020).

    A real sample's ball holds its k nearest other reals; it holds no fake exactly when
    those k nearest of the ``N - 1 + M`` other points are all reals, so
    ``E = 1 - C(N-1, k) / C(N-1+M, k)``: ``1 - 2^-k`` when ``M = N`` is large (0.97 at
    k = 5), lower with fewer fakes than reals. The reference a generator's coverage is
    read against.
    """
    none = 1.0
    for j in range(k):
        none *= (real_count - 1 - j) / (real_count - 1 + fake_count - j)
    return 1.0 - none


def per_class_recall(
    real: Tensor | np.ndarray,
    real_labels: Tensor | np.ndarray,
    fake: Tensor | np.ndarray,
    fake_labels: Tensor | np.ndarray,
    k: int = 5,
) -> dict[int, float]:
    """Recall of each class's fakes against that class's reals: a dropped class scores ~0.

    Classes with too few samples on either side for ``k`` are left out of the result.
    """
    real_x, fake_x = _as_float64(real, "real"), _as_float64(fake, "fake")
    real_y = torch.as_tensor(real_labels).long().cpu()
    fake_y = torch.as_tensor(fake_labels).long().cpu()
    result: dict[int, float] = {}
    for c in sorted(set(real_y.tolist())):
        r, f = real_x[real_y == c], fake_x[fake_y == c]
        if r.shape[0] <= k:
            continue
        if f.shape[0] <= k:
            result[c] = 0.0  # (almost) no fakes of this class: nothing of it is covered
            continue
        radii = kth_neighbour_radii(f, k)
        covered = torch.zeros(r.shape[0], dtype=torch.bool)
        for rows in _blocks(r.shape[0]):
            covered[rows] = (torch.cdist(r[rows], f) <= radii[None, :]).any(dim=1)
        result[c] = float(covered.double().mean())
    return result


def feature_spread(features: Tensor | np.ndarray) -> float:
    """Mean distance of the rows to their centroid: how spread out a sample set is.

    A collapsing generator's fixed batch of samples contracts in feature space; the
    ratio of this value for the fakes to that of the reals is the collapse signal
    :class:`~gst_core.training.metric_callback.MetricCallback` watches.
    """
    x = _as_float64(features, "sample")
    return float((x - x.mean(dim=0)).norm(dim=1).mean())
