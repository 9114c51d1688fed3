"""Mode coverage: the share of the real data's clusters that the samples reach.

Coverage (:mod:`gst_core.metrics.prdc`) counts real *points* reached, so it reads
both how many modes a generator covers and how widely it fills each one: a
generator whose modes are tighter than the data's loses coverage on every mode's
tails without dropping any. This measure counts modes instead:

1. The real features are split once into modes. Where the data falls apart into
   separate groups, those are its modes: the connected components of the real k-NN
   graph (each real joined to its ``max(k, ⌈log₂ N⌉)`` nearest), used when there are at
   least two and each holds at least 1% of the reals (the ring's 8 Gaussians give 8, a
   label-trained network's features of the 10 shapes give 10). Otherwise (one connected
   cloud, as most image features are, or a splinter under 1% of the reals) k-means
   (k-means++ start, float64) cuts it into ``√(N/2)`` bins for ``N`` reals (22 for
   1,000); ``clusters=`` asks for k-means with that many.
2. A sample counts for a mode only when it is clearly in it. For separate modes: the mode
   of its nearest real, when that real is at most half as far (``MARGIN``) as the nearest
   real of any other mode, the ratio test of nearest-neighbour matching. It reads
   membership, not finish: a sample that does not yet look real (outside every k-NN ball,
   low precision) but is plainly nearer one class than the others counts for that class,
   as a classifier's confident label does. For bins, which touch: the bin of its nearest
   real when it lies inside that real's k-NN ball (radius: distance to its ``k``-th
   nearest other real, as for precision). A sample between the modes, or far from all of
   them, counts nowhere.
3. A cluster is *reached* when it holds at least ``min_share`` of the samples a batch
   drawn like the reals would put in it: ``min_share · p_c · M`` of ``M`` samples,
   ``p_c`` its share of the reals. A few samples leaking into a dropped mode do not count
   it. The default is a quarter for separate modes (on the ring, the modes a generator had
   dropped still drew 10% of their due from samples trailing near them) and a tenth for
   bins (a bin is part of a mode: a generator filling the mode tightly starves its edge
   bins without losing anything).

``modes`` is the share of clusters reached (``reached`` their count);
:func:`expected_modes` is its value for a batch of ``M`` samples drawn from the real
clusters (multinomial with the real shares; the binomial tail per cluster), the reference
a generator is read against, and :func:`chance_of_at_most` the chance that such a batch
reaches at most a given count. ``peak`` is the share of samples in the cluster that
holds most of them, divided by that cluster's share of the reals: about 1 for a matching
generator, large when the samples pile into one mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from gst_core.metrics.errors import MetricError
from gst_core.metrics.prdc import _as_float64, _blocks, kth_neighbour_radii

__all__ = [
    "RealModes",
    "ball_components",
    "expected_modes",
    "kmeans",
    "mode_coverage",
    "chance_of_at_most",
    "reach_probabilities",
    "real_modes",
]

# A component smaller than this share of the reals is a splinter (a few outlying or
# duplicated images), not a mode: the data then counts as one cloud, cut into bins.
MIN_COMPONENT_SHARE = 0.01
# A sample counts for a separate mode when its nearest real there is at most this share
# of the distance to the nearest real of any other mode.
MARGIN = 0.5
SEPARATE_MIN_SHARE, BIN_MIN_SHARE = 0.25, 0.1


@dataclass(frozen=True)
class RealModes:
    """The real set's clusters, as :func:`mode_coverage` reads them."""

    features: Tensor  # (N, D) float64
    labels: Tensor  # (N,) cluster of each real point
    radii: Tensor  # (N,) k-NN ball radius of each real point
    shares: Tensor  # (C,) share of the reals in each cluster
    separated: bool = False  # True: the clusters are the data's separate components

    @property
    def min_share(self) -> float:
        """The share of its due a cluster needs to count as reached (the default rule)."""
        return SEPARATE_MIN_SHARE if self.separated else BIN_MIN_SHARE

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


def ball_components(x: Tensor, radii: Tensor) -> Tensor:
    """Connected components of the graph joining each row to the rows inside its ball.

    The component of each row (``(N,)`` long, numbered from 0), by label propagation:
    every row takes the smallest label among its neighbours (both ways) until none changes.
    """
    n = x.shape[0]
    sources, targets = [], []
    for rows in _blocks(n):
        inside = (torch.cdist(x[rows], x) <= radii[rows, None]).nonzero()
        sources.append(inside[:, 0] + rows.start)
        targets.append(inside[:, 1])
    src, dst = torch.cat(sources), torch.cat(targets)
    src, dst = torch.cat([src, dst]), torch.cat([dst, src])
    labels = torch.arange(n)
    while True:
        new = labels.scatter_reduce(0, dst, labels[src], reduce="amin")
        new = new[new]  # jump along the chain: halves the rounds on long, thin components
        if torch.equal(new, labels):
            return labels.unique(return_inverse=True)[1]
        labels = new


def real_modes(real: Tensor, k: int = 5, clusters: int | None = None, seed: int = 0) -> RealModes:
    """Split the real features into modes once (see the module docstring).

    By default the data's separate components when it has them, else ``√(N/2)`` k-means
    bins; ``clusters`` asks for that many k-means clusters. Without separate components the
    bins over-segment on purpose: a dropped mode takes all of its bins with it, while too
    few bins merge modes (the silhouette's choice on ``random_pool`` features of the 10
    shapes was 4 clusters, each holding 2-4 classes).
    """
    x = _as_float64(real, "real")
    n = x.shape[0]
    if n <= k:
        raise MetricError(f"mode coverage needs more than k={k} real samples, got {n}")
    radii = kth_neighbour_radii(x, k)
    if clusters is None:
        # The graph's k grows as log2 N: a k-NN graph on one cloud stays connected only
        # for k of order log N, and a smaller k splinters a single Gaussian into groups.
        graph_k = min(n - 1, max(k, math.ceil(math.log2(n))))
        labels = ball_components(x, kth_neighbour_radii(x, graph_k))
        shares = torch.bincount(labels).double() / n
        if len(shares) >= 2 and float(shares.min()) >= MIN_COMPONENT_SHARE:
            return RealModes(x, labels, radii, shares, separated=True)
        clusters = max(2, round(math.sqrt(n / 2)))
    labels = kmeans(x, min(clusters, n), seed)
    # Renumber so that a cluster k-means left empty does not count.
    labels = labels.unique(return_inverse=True)[1]
    shares = torch.bincount(labels).double() / n
    return RealModes(x, labels, radii, shares)


def _fake_counts(modes: RealModes, fake: Tensor) -> Tensor:
    """Samples per real mode, counted as the module docstring's step 2 says."""
    counts = torch.zeros(modes.count, dtype=torch.float64)
    for rows in _blocks(fake.shape[0]):
        d = torch.cdist(fake[rows], modes.features)
        nearest_d, nearest = d.min(dim=1)
        mode = modes.labels[nearest]
        if modes.separated:
            other = d.masked_fill(modes.labels[None, :] == mode[:, None], math.inf)
            counted = nearest_d <= MARGIN * other.min(dim=1).values
        else:
            counted = nearest_d <= modes.radii[nearest]
        counts += torch.bincount(mode[counted], minlength=modes.count).double()
    return counts


def mode_coverage(modes: RealModes, fake: Tensor, min_share: float | None = None) -> dict[str, Any]:
    """``modes`` (share of clusters reached), ``reached``, ``peak`` and ``counts`` (samples
    per cluster) of ``fake``; ``min_share`` defaults to ``modes.min_share`` (see the
    module docstring)."""
    if min_share is None:
        min_share = modes.min_share
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
        "reached": int(reached.sum()),
        "peak": float(counts[top] / m / modes.shares[top]),
        "counts": [int(c) for c in counts.tolist()],
    }


def _needed(shares: Tensor, m: int, min_share: float) -> Tensor:
    """Samples a cluster needs to count as reached: at least one, else ``min_share`` of its due."""
    return torch.clamp(torch.ceil(min_share * shares * m - 1e-9), min=1)


def reach_probabilities(shares: Tensor, m: int, min_share: float = 0.1) -> list[float]:
    """The chance that ``m`` samples drawn with the real clusters' shares reach each cluster.

    Each cluster's count is Binomial(m, p_c); it is reached with probability
    ``P(count >= needed_c)``, summed exactly in float64.
    """
    needed = _needed(shares, m, min_share)
    reach = []
    for p, t in zip(shares.tolist(), needed.tolist(), strict=True):
        below = sum(math.comb(m, j) * p**j * (1 - p) ** (m - j) for j in range(int(t)))
        reach.append(1.0 - below)
    return reach


def expected_modes(shares: Tensor, m: int, min_share: float = 0.1) -> float:
    """Expected ``modes`` of ``m`` samples drawn with the real clusters' shares."""
    reach = reach_probabilities(shares, m, min_share)
    return sum(reach) / len(reach)


def chance_of_at_most(reach: list[float], reached: int) -> float:
    """P(a real batch reaches at most ``reached`` clusters), given each one's chance.

    The count of clusters reached is a sum of independent Bernoullis (a Poisson-binomial;
    the clusters' counts are in truth slightly anti-correlated, which only narrows it):
    its distribution by the usual dynamic programme over the clusters.
    """
    dist = [1.0]  # dist[j]: P(j clusters reached among those seen so far)
    for q in reach:
        dist = [
            (dist[j] if j < len(dist) else 0.0) * (1 - q) + (dist[j - 1] * q if j else 0.0)
            for j in range(len(dist) + 1)
        ]
    return float(sum(dist[: max(0, reached) + 1]))
