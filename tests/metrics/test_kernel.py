"""KID against torchmetrics' and clean-fid's unbiased polynomial MMD, and its sampling rules."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torchmetrics.image.kid import poly_mmd

from gst_core.metrics import KIDAccumulator, MetricError, SmallSampleWarning, kernel_distance


def feature_sets(n_real: int, n_fake: int, d: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_real, d)), rng.normal(size=(n_fake, d)) * 1.2 + 0.1


def test_one_full_subset_equals_torchmetrics_and_clean_fid(cleanfid_kernel_distance):
    real, fake = feature_sets(300, 300)
    mean, std = kernel_distance(real, fake, subsets=1, subset_size=300)
    expected = float(poly_mmd(torch.from_numpy(real), torch.from_numpy(fake)))
    assert mean == pytest.approx(expected, rel=1e-10)
    assert std == 0.0
    # clean-fid draws its one subset with np.random: a permutation of all 300 rows here,
    # and the MMD does not depend on the order.
    assert mean == pytest.approx(
        cleanfid_kernel_distance(real, fake, num_subsets=1, max_subset_size=300), rel=1e-10
    )


def test_subsets_average_the_mmd_of_the_drawn_subsets():
    real, fake = feature_sets(120, 90, seed=1)
    mean, std = kernel_distance(real, fake, subsets=5, subset_size=40, seed=7)
    rng = np.random.default_rng(7)
    values = []
    for _ in range(5):
        x = torch.from_numpy(real[rng.choice(120, 40, replace=False)])
        y = torch.from_numpy(fake[rng.choice(90, 40, replace=False)])
        values.append(float(poly_mmd(x, y)))
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-10)
    assert std > 0


def test_reproducible_for_a_seed_and_different_for_another():
    real, fake = feature_sets(200, 200, seed=2)
    first = kernel_distance(real, fake, subsets=10, subset_size=50, seed=3)
    assert kernel_distance(real, fake, subsets=10, subset_size=50, seed=3) == first
    assert kernel_distance(real, fake, subsets=10, subset_size=50, seed=4) != first


def test_same_distribution_is_near_zero_and_different_is_not():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    same, same_std = kernel_distance(a, b, subsets=20, subset_size=200)
    shifted, _ = kernel_distance(a, b + 0.5, subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 10 * abs(same)


def test_fewer_samples_than_subset_size_warns_and_uses_all():
    real, fake = feature_sets(60, 80, seed=6)
    with pytest.warns(SmallSampleWarning, match="subset_size=1000 .* 60 real and 80 fake"):
        mean, _ = kernel_distance(real, fake, subsets=3, subset_size=1000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean == kernel_distance(real, fake, subsets=3, subset_size=60, seed=0)[0]
    with pytest.raises(MetricError, match="add samples or lower subset_size"):
        kernel_distance(real, fake, subset_size=1000, on_small="raise")


def test_errors_name_the_problem():
    real, fake = feature_sets(10, 10)
    with pytest.raises(MetricError, match="at least 2 samples per side"):
        kernel_distance(real[:1], fake)
    with pytest.raises(MetricError, match="same feature extractor"):
        kernel_distance(real, fake[:, :3])
    with pytest.raises(MetricError, match="subsets >= 1"):
        kernel_distance(real, fake, subsets=0)


def test_streaming_and_merging_equal_one_call():
    real, fake = feature_sets(150, 170, seed=8)
    expected = kernel_distance(real, fake, subsets=4, subset_size=100, seed=1)
    acc = KIDAccumulator()
    for chunk in np.array_split(real, 6):
        acc.update(chunk, real=True)
    for chunk in np.array_split(fake, 4):
        acc.update(torch.from_numpy(chunk), real=False)
    assert acc.compute(subsets=4, subset_size=100, seed=1) == expected
    first = KIDAccumulator().update(real[:70], real=True).update(fake[:20], real=False)
    second = KIDAccumulator().update(real[70:], real=True).update(fake[20:], real=False)
    merged = KIDAccumulator().load_state_dict(first.state_dict()).merge(second)
    got = merged.compute(subsets=4, subset_size=100, seed=1)
    assert got == pytest.approx(expected, rel=1e-10)
