"""The perceptual loss and the feature-loss contract, as a plugin author meets them."""

from __future__ import annotations

import pytest
import torch

from gst_core import FeatureLoss, Loss
from gst_core.errors import LayerWeightError
from gst_core.kinds import feature_extractors, losses
from gst_core.perceptual import PerceptualLoss
from gst_core.pipelines import StyleTransfer


class L1Content(FeatureLoss):
    """A third-party content loss: only ``layer_term`` is written; the rest is the contract's."""

    def layer_term(self, name, features, target):
        return self.weights[name] * (features - target).abs().mean()


def test_a_feature_loss_needs_only_layer_term(small_extractor):
    loss = PerceptualLoss(small_extractor, content_loss=L1Content(), tv_weight=0.0)
    assert loss.content_loss.layers == tuple(small_extractor.default_content_layers)
    content, image = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    targets = loss.content_targets(content)
    style = loss.style_targets(torch.rand(1, 3, 40, 24))
    terms = loss(image, targets, style)
    layer = loss.content_loss.layers[0]
    with torch.no_grad():
        expected = (small_extractor(image)[layer] - small_extractor(content)[layer]).abs().mean()
    torch.testing.assert_close(terms["content"], expected * loss.loss_weights["content_weight"])
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"])
    # And it drives the Gatys loop like a built-in.
    out = StyleTransfer(small_extractor, content_loss=L1Content(), steps=2, progress=False).run(
        torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    )
    assert out.shape == (1, 3, 32, 32)


def test_a_loss_that_is_not_a_feature_loss_is_refused_with_the_fix(small_extractor):
    class Plain(Loss):
        def forward(self, features, targets):
            return features["scale1"].mean()

    with pytest.raises(
        LayerWeightError, match="content loss Plain is not a gst_core.FeatureLoss; subclass it"
    ):
        PerceptualLoss(small_extractor, content_loss=Plain())


def test_streamed_terms_equal_the_losses_forward(small_extractor):
    """Layer-by-layer scoring (iter_taps + layer_term) is the same sum as forward()."""
    loss = PerceptualLoss(small_extractor, style_weight=1.0, content_weight=1.0, tv_weight=0.0)
    image, content, style = (torch.rand(1, 3, 32, 32) for _ in range(3))
    ct, st = (
        loss.content_targets(content),
        loss.style_targets([style, style.flip(-1)], [0.25, 0.75]),
    )
    c, s = loss.feature_terms(image, ct, st)
    with torch.no_grad():
        features = small_extractor(image)
    torch.testing.assert_close(c, loss.content_loss(features, ct))
    torch.testing.assert_close(s, loss.style_loss(features, st))


def test_style_targets_of_one_image_broadcast_over_a_batch(small_extractor):
    """What feed-forward style training needs: one style, a batch of content images."""
    loss = PerceptualLoss(small_extractor, style_weight=1.0, content_weight=1.0)
    style = loss.style_targets(torch.rand(1, 3, 32, 32))
    batch = torch.rand(3, 3, 32, 32)
    together = loss(batch, loss.content_targets(batch), style)["style"]
    one_by_one = [loss(b[None], loss.content_targets(b[None]), style)["style"] for b in batch]
    torch.testing.assert_close(together, torch.stack(one_by_one).mean(), rtol=1e-5, atol=1e-7)


def test_default_losses_are_the_registered_ones(small_extractor):
    loss = PerceptualLoss(small_extractor)
    assert type(loss.style_loss) is type(losses.build("style"))
    assert loss.loss_weights["tv_weight"] == small_extractor.default_loss_weights["tv_weight"]
    assert feature_extractors.build("auto", quiet=True).__class__.__name__ == "RandomMultiscale"
