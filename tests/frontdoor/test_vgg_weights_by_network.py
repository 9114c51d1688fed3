"""One environment variable per VGG (issue 20 item 10): VGG19's file never reaches VGG16."""

from __future__ import annotations

import pytest
import torch

from gst_core.kinds import feature_extractors
from gst_plugins.feature_extractors.weights import WeightsError, find_weights


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for name in ("GST_VGG_WEIGHTS", "GST_VGG19_WEIGHTS", "GST_VGG16_WEIGHTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def _save(arch, path, seed):
    net = feature_extractors.build(arch, weights="random", seed=seed)
    torch.save({f"features.{k}": v for k, v in net.features.state_dict().items()}, path)
    return net.features[0].weight.detach().clone()


def test_each_network_reads_its_own_variable(tmp_path, monkeypatch):
    w19 = _save("vgg19", tmp_path / "vgg19.pth", seed=1)
    w16 = _save("vgg16", tmp_path / "vgg16.pth", seed=2)
    monkeypatch.setenv("GST_VGG19_WEIGHTS", str(tmp_path / "vgg19.pth"))
    monkeypatch.setenv("GST_VGG16_WEIGHTS", str(tmp_path / "vgg16.pth"))
    torch.testing.assert_close(feature_extractors.build("vgg19").features[0].weight, w19)
    torch.testing.assert_close(feature_extractors.build("vgg16").features[0].weight, w16)


def test_the_old_variable_is_vgg19s_only(tmp_path, monkeypatch):
    _save("vgg19", tmp_path / "vgg19.pth", seed=1)
    monkeypatch.setenv("GST_VGG_WEIGHTS", str(tmp_path / "vgg19.pth"))  # set for gst stylize
    assert find_weights("vgg19", None) == tmp_path / "vgg19.pth"
    assert find_weights("vgg16", None) is None  # so fast_style is not handed VGG19's file


def test_a_file_for_the_other_network_is_named_as_such(tmp_path):
    _save("vgg16", tmp_path / "vgg16.pth", seed=2)
    with pytest.raises(WeightsError, match="holds vgg16 weights.*GST_VGG16_WEIGHTS"):
        feature_extractors.build("vgg19", weights=str(tmp_path / "vgg16.pth"))


def test_a_missing_file_names_the_variable_that_set_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GST_VGG16_WEIGHTS", str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsError, match="set by GST_VGG16_WEIGHTS.*fix or unset GST_VGG16"):
        feature_extractors.build("vgg16")
