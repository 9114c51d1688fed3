"""Content, style and total-variation losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gst_core.errors import LayerWeightError
from gst_core.kinds import losses
from gst_kernels import gram_reference


def test_losses_are_registered():
    assert {"content", "style", "total_variation"} <= set(losses.names())


def test_content_loss_is_weighted_feature_mse():
    a = {"x": torch.randn(1, 4, 5, 5), "y": torch.randn(1, 2, 3, 3)}
    b = {"x": torch.randn(1, 4, 5, 5), "y": torch.randn(1, 2, 3, 3)}
    loss = losses.build("content", layers=["x", "y"], layer_weights=[2.0, 0.5])
    expected = 2.0 * F.mse_loss(a["x"], b["x"]) + 0.5 * F.mse_loss(a["y"], b["y"])
    torch.testing.assert_close(loss(a, b), expected)


def test_style_loss_matches_gram_reference_with_layer_weights():
    feats = {"a": torch.randn(1, 8, 6, 6, requires_grad=True), "b": torch.randn(1, 4, 3, 3)}
    targets_from = {"a": torch.randn(1, 8, 7, 9), "b": torch.randn(1, 4, 5, 2)}
    loss = losses.build("style", layers=["a", "b"], layer_weights={"a": 3.0})
    targets = loss.target_grams(targets_from)
    assert targets["a"].shape == (8, 8)  # any style size: the Gram is C×C
    expected = sum(
        w * ((gram_reference(feats[k]) - gram_reference(targets_from[k])) ** 2).mean()
        for k, w in (("a", 3.0), ("b", 1.0))
    )
    value = loss(feats, targets)
    torch.testing.assert_close(value, expected)
    value.backward()
    assert feats["a"].grad is not None and torch.isfinite(feats["a"].grad).all()


def test_layer_weights_must_match_layers():
    with pytest.raises(LayerWeightError, match="2 layer weight"):
        losses.build("style", layers=["a", "b", "c"], layer_weights=[1.0, 2.0])
    with pytest.raises(LayerWeightError, match="not among its layers"):
        losses.build("content", layers=["a"], layer_weights={"z": 1.0})


def test_total_variation_is_zero_on_flat_images_and_positive_on_noise():
    tv = losses.build("total_variation")
    assert tv(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    noise = torch.rand(1, 3, 8, 8)
    assert tv(noise).item() > 0
    tv1 = losses.build("total_variation", beta=1.0)
    step = torch.zeros(1, 1, 4, 4)
    step[..., 2:] = 1.0
    assert tv1(step).item() == pytest.approx(4 / 12)  # 4 unit jumps among 12 horizontal pairs
