"""Mode coverage (gst_core.metrics.modes) against hand-computed values on small point sets."""

from __future__ import annotations

import pytest
import torch

from gst_core.metrics.errors import MetricError
from gst_core.metrics.modes import expected_modes, kmeans, mode_coverage, real_modes

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
