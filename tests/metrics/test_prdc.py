"""Precision/recall/density/coverage: hand-computed sets, the papers' definitions, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gst_core.cli import main
from gst_core.metrics import MetricError
from gst_core.metrics import prdc as prdc_module
from gst_core.metrics.prdc import feature_spread, kth_neighbour_radii, per_class_recall, prdc

from .test_cli_eval import write_folder


def points(*xs):
    return torch.tensor([[float(x)] for x in xs])


def test_hand_computed_values_on_a_line():
    # real 0, 1, 3 with k=1: radii 1, 1, 2. fake 0.5, 10, 2.5: radii 2, 7.5, 2.
    # precision: 0.5 (in the ball of 0) and 2.5 (ball of 3) -> 2/3.
    # recall: 0 and 1 lie within 2 of 0.5, 3 within 2 of 2.5 -> 1.
    # density: 0.5 is in the balls of 0 and 1, 2.5 in that of 3 -> 3 / (1 * 3) = 1.
    # coverage: each real's nearest fake (0.5, 0.5, 2.5) lies within its radius -> 1.
    r = prdc(points(0, 1, 3), points(0.5, 10, 2.5), k=1)
    assert (r.precision, r.recall, r.density, r.coverage) == (2 / 3, 1.0, 1.0, 1.0)
    assert (r.k, r.real_count, r.fake_count) == (1, 3, 3)


def test_hand_computed_values_of_a_crowded_fake_set():
    # fake 0, 0.1, 0.2 crowd one corner: radii 0.1 each. Every fake lies in the balls of
    # real 0 (radius 1) and real 1 (radius 1; 0 is at exactly 1: closed balls count it):
    # precision 1, density 6 / 3 = 2; only real 0 lies within 0.1 of a fake: recall 1/3;
    # real 3's nearest fake is 2.8 > 2: coverage 2/3.
    r = prdc(points(0, 1, 3), points(0, 0.1, 0.2), k=1)
    assert r.precision == 1.0 and r.density == pytest.approx(2.0, abs=1e-15)
    assert r.recall == pytest.approx(1 / 3) and r.coverage == pytest.approx(2 / 3)


def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    """Straight from the papers: full distance matrices, closed balls, explicit sums."""

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    def radii(x):
        d = dist(x, x)
        return np.array([np.sort(np.delete(row, i))[k - 1] for i, row in enumerate(d)])

    r_real, r_fake = radii(real), radii(fake)
    d_rf = dist(real, fake)  # (N, M)
    precision = np.mean(
        [any(d_rf[i, j] <= r_real[i] for i in range(len(real))) for j in range(len(fake))]
    )
    recall = np.mean(
        [any(d_rf[i, j] <= r_fake[j] for j in range(len(fake))) for i in range(len(real))]
    )
    density = sum(d_rf[i, j] <= r_real[i] for i in range(len(real)) for j in range(len(fake))) / (
        k * len(fake)
    )
    coverage = np.mean([d_rf[i].min() <= r_real[i] for i in range(len(real))])
    return precision, recall, density, coverage


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_a_reimplementation_of_the_papers_on_random_features(k, monkeypatch):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(70, 6))
    fake = rng.normal(0.3, 1.2, size=(55, 6))
    monkeypatch.setattr(prdc_module, "BLOCK", 16)  # several blocks of rows
    got = prdc(real, fake, k=k)
    want = reference_prdc(real, fake, k)
    for value, expected in zip(
        (got.precision, got.recall, got.density, got.coverage), want, strict=True
    ):
        assert value == pytest.approx(expected, abs=1e-12)


def test_identical_sets_and_a_set_collapsed_onto_one_point():
    real = torch.randn(200, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    same = prdc(real, real.clone(), k=5)
    assert same.precision == same.recall == same.coverage == 1.0
    collapsed = prdc(real, real[:1].repeat(200, 1), k=5)
    assert collapsed.precision == 1.0  # the point itself is real: it "looks real"
    assert collapsed.recall == pytest.approx(1 / 200)  # ... but covers only itself
    assert collapsed.coverage < 0.05


def test_radii_and_spread():
    x = points(0, 1, 3, 7)
    assert kth_neighbour_radii(x.double(), 1).tolist() == [1, 1, 2, 4]
    assert kth_neighbour_radii(x.double(), 2).tolist() == [3, 2, 3, 6]
    # centroid 2.75: distances 2.75, 1.75, 0.25, 4.25 -> mean 2.25
    assert feature_spread(x) == pytest.approx(2.25)


def test_per_class_recall_names_a_dropped_class():
    g = torch.Generator().manual_seed(1)
    real = torch.cat([torch.randn(30, 2, generator=g) + 10 * c for c in range(3)]).double()
    labels = torch.arange(3).repeat_interleave(30)
    # The fakes of class 2 all sit on class 0's cluster: class 2 is dropped.
    fake = torch.cat([torch.randn(30, 2, generator=g) + 10 * c for c in (0, 1, 0)]).double()
    recall = per_class_recall(real, labels, fake, labels, k=3)
    assert recall[0] > 0.5 and recall[1] > 0.5 and recall[2] == 0.0


def test_errors_name_the_problem():
    with pytest.raises(MetricError, match="differ in width"):
        prdc(torch.zeros(10, 2), torch.zeros(10, 3))
    with pytest.raises(MetricError, match="k-nearest-neighbour balls with k=5 need more than 5"):
        prdc(torch.randn(5, 2), torch.randn(10, 2))
    with pytest.raises(MetricError, match="NaN"):
        prdc(torch.full((10, 2), float("nan")), torch.randn(10, 2))


def test_cli_prdc_between_folders(tmp_path, capsys):
    from gst_core.metrics.modes import expected_modes, mode_coverage, real_modes

    real = write_folder(tmp_path / "real", 24, seed=0)
    fake = write_folder(tmp_path / "fake", 24, seed=1)
    out = tmp_path / "prdc.json"
    argv = ["eval", "prdc", str(real), str(fake), "--extractor", "random_pool", "--k", "3"]
    assert main([*argv, "--no-progress", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(k=3; 24 real, 24 fake)" in printed
    result = json.loads(out.read_text())
    assert result["metric"] == "prdc" and result["k"] == 3
    from gst_core.metrics import folder_features, resolve_extractor

    extractor, _ = resolve_extractor("random_pool")
    want = prdc(
        folder_features(real, extractor, progress=False).features,
        folder_features(fake, extractor, progress=False).features,
        k=3,
    )
    assert result["precision"] == want.precision and result["coverage"] == want.coverage
    clusters = real_modes(folder_features(real, extractor, progress=False).features, k=3)
    reached = mode_coverage(clusters, folder_features(fake, extractor, progress=False).features)
    assert result["modes"] == reached["modes"] and result["mode_clusters"] == clusters.count
    assert result["expected_modes"] == expected_modes(clusters.shares, 24, clusters.min_share)
    kind = "separate modes" if clusters.separated else "k-means bins"
    assert result["modes_separated"] == clusters.separated
    assert f"{reached['reached']} of the real data's {clusters.count} {kind} reached" in printed
    assert main([*argv[:-2], "--k", "0", "--no-progress"]) == 2


def test_cli_prdc_names_the_modes_a_collapsed_set_misses(tmp_path):
    import shutil

    real = write_folder(tmp_path / "real", 40, seed=0)
    collapsed = tmp_path / "collapsed"
    collapsed.mkdir()
    one = sorted(real.iterdir())[0]
    for i in range(40):  # every "sample" is the same real image
        shutil.copy(one, collapsed / f"{i:02d}{one.suffix}")
    out = tmp_path / "prdc.json"
    argv = ["eval", "prdc", str(real), str(collapsed), "--extractor", "random_pool", "--k", "3"]
    assert main([*argv, "--no-progress", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    # One real point's cluster of the round(sqrt(40 / 2)) = 4: a quarter at most.
    assert result["mode_clusters"] == 4
    assert result["modes"] <= 0.25 < 0.9 <= result["expected_modes"]
