"""Small, fast fixtures for the style-transfer tests: tiny images, narrow networks."""

from __future__ import annotations

import pytest
import torch

from gst_core.kinds import feature_extractors


@pytest.fixture(autouse=True)
def _no_vgg_weights_from_env(monkeypatch, tmp_path):
    # Tests must not pick up a developer's weights or torchvision cache.
    monkeypatch.delenv("GST_VGG_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


@pytest.fixture
def small_extractor():
    """The offline extractor with few filters: the real design, at test speed."""
    return feature_extractors.build("random_multiscale", channels=32, num_scales=4)
