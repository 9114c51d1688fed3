"""FID maths against pytorch-fid's own function, torchmetrics (float64) and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.image.fid import _compute_fid

from gst_core.metrics import (
    FeatureStats,
    FIDAccumulator,
    MetricError,
    frechet_distance,
    frechet_distance_from_stats,
)

# pytorch-fid's own code passes scipy's deprecated sqrtm(disp=False); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument:DeprecationWarning")


def gaussian_sets(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)  # correlated features, as a network's are
    a = rng.normal(size=(n, d)) @ mix + 0.3
    b = rng.normal(size=(n, d)) @ (mix + 0.2 * rng.normal(size=(d, d)) / np.sqrt(d)) - 0.1
    return a, b


def np_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.mark.parametrize(
    ("n", "d", "rtol"),
    [(1000, 64, 1e-9), (60, 512, 1e-6)],
    ids=["full-rank D64 N1000", "rank-deficient D512 N60"],
)
def test_equals_pytorch_fid(pytorch_fid_distance, n, d, rtol):
    a, b = gaussian_sets(n, d)
    expected = pytorch_fid_distance(*np_stats(a), *np_stats(b))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=rtol)


@pytest.mark.parametrize(("n", "d", "rtol"), [(1000, 64, 1e-9), (60, 512, 1e-6)])
def test_equals_torchmetrics_float64(n, d, rtol):
    a, b = gaussian_sets(n, d, seed=1)
    (m1, s1), (m2, s2) = np_stats(a), np_stats(b)
    expected = float(_compute_fid(*(torch.from_numpy(t) for t in (m1, s1, m2, s2))))
    assert frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(
        expected, rel=rtol
    )


def test_rank_deficient_equals_nuclear_norm_oracle():
    # With Σᵢ = AᵢᵀAᵢ/(n−1) (Aᵢ centred, n < D), the non-zero eigenvalues of Σ₁Σ₂ are the
    # squared singular values of A₁A₂ᵀ/(n−1), so tr √(Σ₁Σ₂) is that matrix's nuclear norm:
    # an exact answer computed from an n×n matrix, with no square root of a D×D one.
    a, b = gaussian_sets(80, 512, seed=2)
    ca, cb = a - a.mean(0), b - b.mean(0)
    nuclear = np.linalg.svd(ca @ cb.T / (len(a) - 1), compute_uv=False).sum()
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(np.cov(a, rowvar=False)) + np.trace(np.cov(b, rowvar=False))
    expected -= 2 * nuclear
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def random_covariance(d: int, rng: np.random.Generator) -> np.ndarray:
    m = rng.normal(size=(d, 2 * d))
    return m @ m.T / (2 * d)


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.default_rng(3)
    sigma = random_covariance(32, rng)
    mu1, mu2 = rng.normal(size=32), rng.normal(size=32)
    expected = float(((mu1 - mu2) ** 2).sum())
    assert frechet_distance_from_stats(mu1, sigma, mu2, sigma) == pytest.approx(
        expected, rel=1e-12, abs=1e-12 * np.trace(sigma)
    )


def test_diagonal_covariances_closed_form():
    rng = np.random.default_rng(4)
    va, vb = rng.uniform(0.1, 3.0, 40), rng.uniform(0.1, 3.0, 40)
    mu1, mu2 = rng.normal(size=40), rng.normal(size=40)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(va) - np.sqrt(vb)) ** 2).sum()
    assert frechet_distance_from_stats(mu1, np.diag(va), mu2, np.diag(vb)) == pytest.approx(
        expected, rel=1e-12
    )


@pytest.mark.parametrize(("n", "d"), [(500, 64), (50, 256)])
def test_identical_inputs_give_almost_zero(n, d):
    a, _ = gaussian_sets(n, d, seed=5)
    value = frechet_distance(a, a)
    assert 0.0 <= value <= 1e-8 * np.trace(np.cov(a, rowvar=False))


def test_float32_and_numpy_inputs_are_measured_in_float64():
    a, b = gaussian_sets(300, 16, seed=6)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    # The same float32 numbers, converted to float64 by the caller or by us: same answer.
    assert frechet_distance(a32, b32) == frechet_distance(
        torch.from_numpy(a32).double(), torch.from_numpy(b32).double()
    )


def test_streaming_equals_one_call():
    a, b = gaussian_sets(1000, 64, seed=7)
    acc = FIDAccumulator()
    for chunk in np.array_split(a, 7):
        acc.update(chunk, real=True)
    for chunk in np.array_split(b, 13):
        acc.update(torch.from_numpy(chunk).float().double(), real=False)
    assert acc.compute() == pytest.approx(frechet_distance(a, b), rel=1e-10)
    stats = FeatureStats().update(a)
    assert torch.allclose(acc.real.mean, stats.mean, rtol=0, atol=1e-12)
    assert torch.allclose(acc.real.covariance(), stats.covariance(), rtol=1e-10, atol=1e-12)


def test_large_offset_is_accumulated_stably():
    # Features far from zero compared to their spread: a running Σx / Σxxᵀ loses the spread
    # to cancellation; the pairwise (Chan) update keeps it.
    rng = np.random.default_rng(8)
    x = rng.normal(size=(4000, 4)) + 1e7
    stats = FeatureStats()
    for chunk in np.array_split(x, 40):
        stats.update(chunk)
    expected = np.cov(x - 1e7, rowvar=False)  # the exact covariance, shift-invariant
    assert np.allclose(stats.covariance().numpy(), expected, rtol=1e-6, atol=1e-6)


def test_merged_accumulators_equal_one():
    a, b = gaussian_sets(900, 48, seed=9)
    whole = FIDAccumulator().update(a, real=True).update(b, real=False)
    # Two "processes" with uneven shares, their states passed around as state dicts.
    first = FIDAccumulator().update(a[:200], real=True).update(b[:650], real=False)
    second = FIDAccumulator().update(a[200:], real=True).update(b[650:], real=False)
    restored = FIDAccumulator().load_state_dict(first.state_dict())
    restored.merge(FIDAccumulator().load_state_dict(second.state_dict()))
    assert restored.compute() == pytest.approx(whole.compute(), rel=1e-10)


def test_errors_name_the_problem():
    a, b = gaussian_sets(10, 8)
    with pytest.raises(MetricError, match="shape \\(N, D\\)"):
        frechet_distance(a[0], b)
    with pytest.raises(MetricError, match="differ in dimension"):
        frechet_distance(a, b[:, :4])
    with pytest.raises(MetricError, match="at least 2 samples"):
        frechet_distance(a[:1], b)
    bad = a.copy()
    bad[0, 0] = np.nan
    with pytest.raises(MetricError, match="NaN"):
        frechet_distance(bad, b)
    acc = FIDAccumulator().update(a, real=True)
    with pytest.raises(MetricError, match="8 dimensions|4 dimensions"):
        acc.update(b[:, :4], real=True)
    with pytest.raises(MetricError, match="no features were added"):
        acc.compute()  # no fake side yet


def _float64_reference(x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and unbiased covariance written out in float64 torch (a GEMM, not syrk)."""
    t = torch.from_numpy(x).double()
    centred = t - t.mean(0)
    return t.mean(0), centred.T @ centred / (t.shape[0] - 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block_rows", [64, 10_000])
def test_blocked_statistics_equal_a_float64_reference(monkeypatch, dtype, block_rows):
    # Several 64-row blocks (the last one short) or one: the same statistics to 1e-12.
    import gst_core.metrics.frechet as frechet

    d = 48
    monkeypatch.setattr(frechet, "BLOCK_BYTES", block_rows * 8 * d)
    rng = np.random.default_rng(11)
    x = (np.maximum(rng.normal(size=(1000, d)), 0) * 3 + 2).astype(dtype)
    stats = FeatureStats().update(x)
    mean, cov = _float64_reference(x)
    assert stats.n == 1000
    assert float((stats.mean - mean).abs().max() / mean.abs().max()) < 1e-12
    assert float((stats.covariance() - cov).abs().max() / cov.abs().max()) < 1e-12
    # The matrix is exactly symmetric (syrk fills one triangle, numpy mirrors it).
    assert torch.equal(stats.covariance(), stats.covariance().T)


def test_non_finite_values_in_a_late_block_are_refused(monkeypatch):
    import gst_core.metrics.frechet as frechet

    monkeypatch.setattr(frechet, "BLOCK_BYTES", 16 * 8 * 8)
    x = np.random.default_rng(12).normal(size=(100, 8))
    x[97, 3], x[98, 3] = np.inf, -np.inf  # they cancel to NaN in a sum, never to a number
    with pytest.raises(MetricError, match="NaN or infinite"):
        FeatureStats().update(x)
    half = torch.from_numpy(x[:90]).half()  # numpy has no bfloat16; half goes via float64
    assert torch.allclose(
        FeatureStats().update(half).covariance(),
        _float64_reference(half.double().numpy())[1],
        rtol=0,
        atol=1e-12,
    )
