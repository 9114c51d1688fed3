"""Mode coverage: the share of the real data's clusters that the samples reach.

Coverage (:mod:`gst_core.metrics.prdc`) counts real *points* reached, so it reads
both how many modes a generator covers and how widely it fills each one: a
generator whose modes are tighter than the data's loses coverage on every mode's
tails without dropping any. This measure counts modes instead:

1. The real features are clustered once, by k-means (k-means++ start, float64),
   into ``√(N/2)`` clusters for ``N`` reals (22 for 1,000) unless told otherwise.
2. A sample belongs to the cluster of its nearest real point when it lies inside that
   point's k-NN ball (radius: distance to its ``k``-th nearest other real, as for
   precision); a sample outside every ball (between the modes) belongs to none.
3. A cluster is *reached* when it holds at least ``min_share`` (default 0.1) of the
   samples a batch drawn like the reals would put in it: ``min_share · p_c · M`` of
   ``M`` samples, ``p_c`` its share of the reals. A few samples leaking into a
   dropped mode do not count it.

``modes`` is the share of clusters reached; :func:`expected_modes` is its value for a
batch of ``M`` samples drawn from the real clusters (multinomial with the real shares;
the binomial tail per cluster), the reference a generator is read against. ``peak``
is the share of samples in the cluster that holds most of them, divided by that
cluster's share of the reals: about 1 for a matching generator, large when the
samples pile into one mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from gst_core.metrics.errors import MetricError
from gst_core.metrics.prdc import _as_float64, _blocks, kth_neighbour_radii

__all__ = ["RealModes", "expected_modes", "kmeans", "mode_coverage", "real_modes"]


@dataclass(frozen=True)
class RealModes:
    """The real set's clusters, as :func:`mode_coverage` reads them."""

    features: Tensor  # (N, D) float64
    labels: Tensor  # (N,) cluster of each real point
    radii: Tensor  # (N,) k-NN ball radius of each real point
    shares: Tensor  # (C,) share of the reals in each cluster

    @property
    def count(self) -> int:
        return int(self.shares.numel())


def kmeans(x: Tensor, k: int, seed: int = 0, iterations: int = 100) -> Tensor:
    """Lloyd's k-means with a k-means++ start; the cluster of each row (``(N,)`` long)."""
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(len(x), (1,), generator=g)]
    for _ in range(1, k):
        d2 = torch.cdist(x, centres).min(dim=1).values ** 2
        if float(d2.sum()) == 0:  # fewer distinct points than k
            break
        centres = torch.cat([centres, x[torch.multinomial(d2, 1, generator=g)]])
    labels = torch.cdist(x, centres).argmin(dim=1)
    for _ in range(iterations):
        centres = torch.stack(
            [x[labels == c].mean(dim=0) if (labels == c).any() else centres[c] for c in range(k)]
        )
        new = torch.cdist(x, centres).argmin(dim=1)
        if torch.equal(new, labels):
            break
        labels = new
    return labels


def real_modes(real: Tensor, k: int = 5, clusters: int | None = None, seed: int = 0) -> RealModes:
    """Cluster the real features once: ``clusters`` k-means clusters, by default ``√(N/2)``.

    The default over-segments on purpose: a dropped mode takes all of its clusters with
    it, while too few clusters merge modes (the silhouette's choice on ``random_pool``
    features of the 10 shapes was 4 clusters, each holding 2-4 classes).
    """
    x = _as_float64(real, "real")
    n = x.shape[0]
    if n <= k:
        raise MetricError(f"mode coverage needs more than k={k} real samples, got {n}")
    if clusters is None:
        clusters = max(2, round(math.sqrt(n / 2)))
    labels = kmeans(x, min(clusters, n), seed)
    # Renumber so that a cluster k-means left empty does not count.
    labels = labels.unique(return_inverse=True)[1]
    shares = torch.bincount(labels).double() / n
    return RealModes(x, labels, kth_neighbour_radii(x, k), shares)


def _fake_counts(modes: RealModes, fake: Tensor) -> Tensor:
    """Samples per real cluster; a sample outside its nearest real's ball counts nowhere."""
    counts = torch.zeros(modes.count, dtype=torch.float64)
    for rows in _blocks(fake.shape[0]):
        nearest_d, nearest = torch.cdist(fake[rows], modes.features).min(dim=1)
        inside = nearest_d <= modes.radii[nearest]
        counts += torch.bincount(modes.labels[nearest[inside]], minlength=modes.count).double()
    return counts


def mode_coverage(modes: RealModes, fake: Tensor, min_share: float = 0.1) -> dict[str, float]:
    """``modes`` (share of clusters reached) and ``peak`` of ``fake`` (see the module docstring)."""
    f = _as_float64(fake, "fake")
    if f.shape[1] != modes.features.shape[1]:
        raise MetricError(
            f"real and fake features differ in width ({modes.features.shape[1]} vs "
            f"{f.shape[1]}); measure both with the same extractor"
        )
    m = f.shape[0]
    counts = _fake_counts(modes, f)
    reached = counts >= _needed(modes.shares, m, min_share)
    top = int(counts.argmax())
    return {
        "modes": float(reached.double().mean()),
        "peak": float(counts[top] / m / modes.shares[top]),
    }


def _needed(shares: Tensor, m: int, min_share: float) -> Tensor:
    """Samples a cluster needs to count as reached: at least one, else ``min_share`` of its due."""
    return torch.clamp(torch.ceil(min_share * shares * m - 1e-9), min=1)


def expected_modes(shares: Tensor, m: int, min_share: float = 0.1) -> float:
    """Expected ``modes`` of ``m`` samples drawn with the real clusters' shares.

    Each cluster's count is Binomial(m, p_c); it is reached with probability
    ``P(count >= needed_c)``, summed exactly in float64.
    """
    needed = _needed(shares, m, min_share)
    total = 0.0
    for p, t in zip(shares.tolist(), needed.tolist(), strict=True):
        below = sum(math.comb(m, j) * p**j * (1 - p) ** (m - j) for j in range(int(t)))
        total += 1.0 - below
    return total / len(shares)
