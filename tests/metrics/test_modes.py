"""Mode coverage (gst_core.metrics.modes) against hand-computed values on small point sets."""

from __future__ import annotations

import math

import pytest
import torch

from gst_core.metrics.errors import MetricError
from gst_core.metrics.modes import (
    ball_components,
    chance_of_at_most,
    expected_modes,
    kmeans,
    mode_coverage,
    reach_probabilities,
    real_modes,
)
from gst_core.metrics.prdc import kth_neighbour_radii

# Two clusters on a line, A = {0, 1, 2} and B = {10, 11, 12}: every real's nearest other
# real is 1 away, so with k = 1 every ball has radius 1.
REAL = torch.tensor([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])


def test_kmeans_finds_separated_clusters():
    labels = kmeans(REAL.double(), 2)
    assert labels[:3].unique().numel() == 1 and labels[3:].unique().numel() == 1
    assert labels[0] != labels[3]
    three = torch.tensor([[0.0, 0], [0.1, 0], [5, 5], [5.1, 5], [5, 5.1], [-5, 5]]).double()
    labels = kmeans(three, 3)
    assert labels[0] == labels[1] and labels[2] == labels[3] == labels[4]
    assert len({int(labels[0]), int(labels[2]), int(labels[5])}) == 3


def test_mode_coverage_by_hand():
    modes = real_modes(REAL, k=1, clusters=2)
    assert modes.count == 2 and modes.shares.tolist() == [0.5, 0.5]
    assert modes.radii.tolist() == [1.0] * 6
    # 0.2, 0.5, 1.5, 2.5 fall in A's balls; 5 and 30 are outside every ball; 10.2 is in B.
    fake = torch.tensor([[0.2], [0.5], [1.5], [2.5], [5.0], [10.2], [30.0]])
    # min_share 0.1: a cluster needs ceil(0.1 * 0.5 * 7) = 1 sample; both have it.
    reach = mode_coverage(modes, fake, min_share=0.1)
    assert reach["modes"] == 1.0
    # The top cluster A holds 4 of the 7 samples against 1/2 of the reals.
    assert reach["peak"] == pytest.approx((4 / 7) / 0.5, abs=1e-15)
    # min_share 0.5: ceil(1.75) = 2 samples needed; B's single sample does not count.
    assert mode_coverage(modes, fake, min_share=0.5)["modes"] == 0.5
    # Samples between the clusters count nowhere, however many.
    assert mode_coverage(modes, torch.full((20, 1), 6.0))["modes"] == 0.0


def test_chance_of_at_most_by_hand_and_by_enumeration():
    import itertools

    assert chance_of_at_most([0.5, 0.5], 0) == pytest.approx(0.25, abs=1e-15)
    assert chance_of_at_most([0.5, 0.5], 1) == pytest.approx(0.75, abs=1e-15)
    assert chance_of_at_most([0.5, 0.5], 2) == pytest.approx(1.0, abs=1e-15)
    reach = [0.9, 0.6, 0.99, 0.3]
    for r in range(5):
        want = sum(
            math.prod(q if hit else 1 - q for q, hit in zip(reach, hits, strict=True))
            for hits in itertools.product((0, 1), repeat=4)
            if sum(hits) <= r
        )
        assert chance_of_at_most(reach, r) == pytest.approx(want, abs=1e-15)
    assert reach_probabilities(torch.tensor([0.5, 0.5]), 2) == [0.75, 0.75]


def test_expected_modes_by_hand_and_by_simulation():
    # Two halves, 2 draws, one sample needed each: P(count >= 1) = 1 - 1/4.
    assert expected_modes(torch.tensor([0.5, 0.5]), 2) == pytest.approx(0.75, abs=1e-15)
    # Shares 1/4, 3/4, 4 draws, min_share 0.5: needs ceil(0.5) = 1 and ceil(1.5) = 2 samples.
    p_a = 1 - 0.75**4
    p_b = 1 - 0.25**4 - 4 * 0.75 * 0.25**3
    assert expected_modes(torch.tensor([0.25, 0.75]), 4, 0.5) == pytest.approx(
        (p_a + p_b) / 2, abs=1e-15
    )
    # Real points drawn with replacement are a batch "drawn like the reals": the mean of
    # mode_coverage over many such batches is expected_modes.
    g = torch.Generator().manual_seed(0)
    real = torch.cat(
        [torch.randn(n, 2, generator=g) * 0.1 + c for n, c in ((30, 0), (10, 3), (5, 6))]
    )
    modes = real_modes(real, k=2, clusters=3)
    draws = [mode_coverage(modes, real[torch.randint(45, (12,), generator=g)], 0.3)["modes"]
             for _ in range(3000)]  # fmt: skip
    mean = sum(draws) / len(draws)
    se = torch.tensor(draws).std().item() / len(draws) ** 0.5
    assert abs(mean - expected_modes(modes.shares, 12, 0.3)) < 4 * se


def test_default_cluster_count_and_bad_input():
    real = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    assert real_modes(real).count == 10  # sqrt(200 / 2)
    with pytest.raises(MetricError, match="differ in width"):
        mode_coverage(real_modes(real), torch.zeros(5, 2))
    with pytest.raises(MetricError, match="more than k=5"):
        real_modes(torch.zeros(4, 2))


def test_separate_groups_are_the_modes():
    # Two groups of 8 on a line, 0..7 and 100..107: each real's ceil(log2 16) = 4 nearest
    # lie in its own group, so the graph has two components, used as the modes without
    # k-means. With k = 1 every ball has radius 1.
    real = torch.cat([torch.arange(8.0), torch.arange(100.0, 108.0)])[:, None]
    modes = real_modes(real, k=1)
    assert modes.separated and modes.count == 2
    assert modes.labels.tolist() == [0] * 8 + [1] * 8 and modes.shares.tolist() == [0.5, 0.5]
    assert modes.radii.tolist() == [1.0] * 16
    # 3 samples in the first group's balls, 1 in the second's, 50 outside every ball.
    fake = torch.tensor([[0.2], [3.5], [7.9], [104.0], [50.0]])
    reach = mode_coverage(modes, fake)
    assert reach == {"modes": 1.0, "reached": 2, "peak": 0.6 / 0.5, "counts": [3, 1]}
    # Separate modes need a quarter of their due: ceil(0.25 * 0.5 * 5) = 1 sample here,
    # ceil(0.25 * 0.5 * 20) = 3 of 20 (2 in B is not enough; bins would need 1).
    twenty = torch.cat([torch.full((18, 1), 3.0), torch.full((2, 1), 104.0)])
    assert modes.min_share == 0.25 and mode_coverage(modes, twenty)["reached"] == 1
    assert mode_coverage(modes, twenty, min_share=0.1)["reached"] == 2
    assert mode_coverage(modes, fake[:3])["reached"] == 1
    # The ratio test, not the balls: 20 is outside every ball but 13 from A's nearest real
    # and 80 from B's (13 <= 0.5 * 80): it counts for A. 40 (33 against 60) and the
    # midpoint 53.5 count nowhere, nor does 500 (393 against 400), far from both.
    far = torch.tensor([[20.0], [40.0], [53.5], [500.0]])
    counted = [mode_coverage(modes, x[None])["reached"] for x in far]
    assert counted == [1, 0, 0, 0]
    assert mode_coverage(modes, far[:1])["peak"] == 1 / 0.5


def test_ball_components_by_hand_and_against_scipy():
    # Balls of radius 1 (k = 1) on 0..99 chain every point to the next: one component,
    # found however long the chain; a gap of 3 after 49 cuts it in two.
    line = torch.arange(100.0).double()[:, None]
    radii = torch.ones(100, dtype=torch.float64)
    assert ball_components(line, radii).unique().tolist() == [0]
    cut = torch.cat([line[:50], line[50:] + 3])
    assert ball_components(cut, radii).tolist() == [0] * 50 + [1] * 50
    # A ball joins both ways: b inside a's ball joins them even where a is outside b's.
    pair = torch.tensor([[0.0], [2.0]]).double()
    assert ball_components(pair, torch.tensor([2.0, 0.5]).double()).tolist() == [0, 0]
    assert ball_components(pair, torch.tensor([1.0, 0.5]).double()).tolist() == [0, 1]
    sparse = pytest.importorskip("scipy.sparse")
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    g = torch.Generator().manual_seed(0)
    x = torch.cat(
        [torch.randn(60, 3, generator=g) * s + c for s, c in ((0.3, 0), (0.5, 4), (0.2, 9))]
    )
    x = x.double()
    for k in (1, 2, 5):
        r = kth_neighbour_radii(x, k)
        adjacency = (torch.cdist(x, x) <= r[:, None]).numpy()
        count, want = csgraph.connected_components(sparse.csr_matrix(adjacency), directed=False)
        got = ball_components(x, r)
        assert got.max() + 1 == count
        # The same partition (numbered alike: both number components by first row).
        assert got.tolist() == torch.from_numpy(want).unique(return_inverse=True)[1].tolist()


def test_one_cloud_or_a_splinter_falls_back_to_bins():
    g = torch.Generator().manual_seed(0)
    cloud = torch.randn(200, 3, generator=g)
    assert not real_modes(cloud).separated  # one component
    # Two groups: with k = 2 the graph still joins each real to its ceil(log2 300) = 9
    # nearest (2 would splinter each Gaussian into a dozen groups).
    groups = torch.cat(
        [torch.randn(150, 2, generator=g) * 0.1, torch.randn(150, 2, generator=g) * 0.1 + 5]
    )
    assert real_modes(groups, k=2).separated and real_modes(groups, k=2).count == 2
    # Fewer reals far away than the graph's k (9) join the nearest group: no component.
    few = torch.cat([groups, torch.randn(6, 2, generator=g) * 0.01 + 50])
    assert real_modes(few, k=2).count == 2
    # 15 far reals, each other's nearest at N = 2015 (graph k 11), are a component of
    # 0.74% of the reals: under the 1% floor, a splinter, and the data counts as one cloud.
    big = torch.cat(
        [torch.randn(1000, 2, generator=g) * 0.1, torch.randn(1000, 2, generator=g) * 0.1 + 5]
    )
    splinter = torch.cat([big, torch.randn(15, 2, generator=g) * 0.01 + 50])
    assert ball_components(splinter, kth_neighbour_radii(splinter.double(), 11)).max() == 2
    modes = real_modes(splinter, k=2)
    assert not modes.separated and modes.count == round((2015 / 2) ** 0.5)
