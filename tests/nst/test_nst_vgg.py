"""VGG extractors: torchvision layout, taps, weight loading from files the tests write."""

from __future__ import annotations

import pytest
import torch

from gst_core.errors import GstError
from gst_core.kinds import feature_extractors
from gst_plugins.feature_extractors.auto import OFFLINE_NOTICE
from gst_plugins.feature_extractors.vgg import LayerError
from gst_plugins.feature_extractors.weights import WeightsError, read_state_dict

# torchvision.models.vgg19().features: conv indices.
VGG19_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
VGG16_CONVS = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


def torchvision_state_dict(convs: list[int], seed: int) -> dict[str, torch.Tensor]:
    """A state dict with torchvision's keys and shapes (features + classifier)."""
    g = torch.Generator().manual_seed(seed)
    widths = [64, 64, 128, 128] + [256] * 4 + [512] * 8
    if len(convs) == 13:
        widths = [64, 64, 128, 128] + [256] * 3 + [512] * 6
    state, cin = {}, 3
    for idx, cout in zip(convs, widths, strict=True):
        state[f"features.{idx}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * 0.05
        state[f"features.{idx}.bias"] = torch.randn(cout, generator=g) * 0.01
        cin = cout
    state["classifier.6.weight"] = torch.zeros(10, 4)  # ignored: only features are used
    state["classifier.6.bias"] = torch.zeros(10)
    return state


@pytest.fixture(scope="module")
def vgg19_state():
    return torchvision_state_dict(VGG19_CONVS, seed=1)


def test_layout_matches_torchvision_indices():
    vgg = feature_extractors.build("vgg19", weights="random", width_multiplier=0.125)
    convs = [i for i, m in enumerate(vgg.features) if isinstance(m, torch.nn.Conv2d)]
    assert convs == VGG19_CONVS
    vgg16 = feature_extractors.build("vgg16", weights="random", width_multiplier=0.125)
    assert [
        i for i, m in enumerate(vgg16.features) if isinstance(m, torch.nn.Conv2d)
    ] == VGG16_CONVS
    assert "relu5_4" in vgg.available_layers and "relu5_4" not in vgg16.available_layers
    assert vgg.available_layers[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")


def test_pth_state_dict_loads_and_taps_are_computed(tmp_path, vgg19_state):
    path = tmp_path / "vgg19.pth"
    torch.save(vgg19_state, path)
    vgg = feature_extractors.build("vgg19", weights=str(path), layers=["conv1_1", "relu3_1"])
    torch.testing.assert_close(vgg.features[34].weight, vgg19_state["features.34.weight"])
    assert all(not p.requires_grad for p in vgg.parameters())
    # ImageNet normalisation inside: the mean colour maps to 0, so conv1_1 = its bias.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    out = vgg(mean.clone())
    assert list(out) == ["conv1_1", "relu3_1"]
    bias = vgg19_state["features.0.bias"].view(1, -1, 1, 1).expand(1, 64, 8, 8)
    torch.testing.assert_close(out["conv1_1"][..., 2:-2, 2:-2], bias[..., 2:-2, 2:-2])
    assert out["relu3_1"].shape == (1, 256, 2, 2)


def test_safetensors_loads(tmp_path, vgg19_state):
    safetensors = pytest.importorskip("safetensors.torch")
    path = tmp_path / "vgg19.safetensors"
    safetensors.save_file({k: v.contiguous() for k, v in vgg19_state.items()}, str(path))
    vgg = feature_extractors.build("vgg19", weights=str(path))
    torch.testing.assert_close(vgg.features[0].weight, vgg19_state["features.0.weight"])


def test_vgg16_state_dict_loads(tmp_path):
    state = torchvision_state_dict(VGG16_CONVS, seed=2)
    torch.save(state, tmp_path / "vgg16.pth")
    vgg = feature_extractors.build("vgg16", weights=str(tmp_path / "vgg16.pth"))
    torch.testing.assert_close(vgg.features[28].bias, state["features.28.bias"])


def test_missing_and_unexpected_keys_are_listed(tmp_path, vgg19_state):
    broken = dict(vgg19_state)
    del broken["features.34.weight"]
    broken["features.99.weight"] = torch.zeros(1)
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(WeightsError) as info:
        feature_extractors.build("vgg19", weights=str(tmp_path / "broken.pth"))
    message = str(info.value)
    assert "missing keys: features.34.weight" in message
    assert "unexpected keys: features.99.weight" in message


def test_vgg16_file_for_vgg19_reports_wrong_shapes(tmp_path):
    torch.save(torchvision_state_dict(VGG16_CONVS, seed=3), tmp_path / "vgg16.pth")
    with pytest.raises(WeightsError, match="wrong shapes|missing keys"):
        feature_extractors.build("vgg19", weights=str(tmp_path / "vgg16.pth"))


def test_unreadable_and_missing_weight_files(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read weights file"):
        feature_extractors.build("vgg19", weights=str(tmp_path / "junk.pth"))
    with pytest.raises(WeightsError, match="does not exist"):
        feature_extractors.build("vgg19", weights=str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsError, match="no vgg19 weights configured"):
        feature_extractors.build("vgg19")


def test_weights_precedence_argument_then_env_then_cache(tmp_path, monkeypatch, vgg19_state):
    env_state = {k: v + 1.0 for k, v in vgg19_state.items()}
    torch.save(vgg19_state, tmp_path / "arg.pth")
    torch.save(env_state, tmp_path / "env.pth")
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save({k: v - 1.0 for k, v in vgg19_state.items()}, cache / "vgg19-dcbb9e9d.pth")
    w0 = vgg19_state["features.0.weight"]
    vgg = feature_extractors.build("vgg19")  # torchvision's cache
    torch.testing.assert_close(vgg.features[0].weight, w0 - 1.0)
    monkeypatch.setenv("GST_VGG_WEIGHTS", str(tmp_path / "env.pth"))
    vgg = feature_extractors.build("vgg19")
    torch.testing.assert_close(vgg.features[0].weight, w0 + 1.0)
    vgg = feature_extractors.build("vgg19", weights=str(tmp_path / "arg.pth"))
    torch.testing.assert_close(vgg.features[0].weight, w0)


def test_computes_only_up_to_the_deepest_tap_and_gradients_reach_the_input():
    vgg = feature_extractors.build(
        "vgg19", weights="random", width_multiplier=0.125, layers=["relu2_1"], pooling="avg"
    )
    called = []
    for i, m in enumerate(vgg.features):
        m.register_forward_hook(lambda *_, i=i: called.append(i))
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    out = vgg(image)
    assert max(called) <= 7  # relu2_1 is features.6; conv2_1 is index 5
    out["relu2_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert isinstance(vgg.features[4], torch.nn.AvgPool2d)


def test_unknown_layer_suggests_close_names():
    with pytest.raises(LayerError, match="did you mean 'relu4_2'"):
        feature_extractors.build("vgg19", weights="random", layers=["relu4_22"])


def test_default_extractor_is_offline_without_weights(capsys, tmp_path, vgg19_state):
    ex = feature_extractors.build("auto")
    assert type(ex).__name__ == "RandomMultiscale"
    assert OFFLINE_NOTICE in capsys.readouterr().err
    torch.save(vgg19_state, tmp_path / "w.pth")
    assert (
        type(feature_extractors.build("auto", weights=str(tmp_path / "w.pth"))).__name__ == "VGG19"
    )
    with pytest.raises(GstError):  # named weights that fail do not fall back silently
        feature_extractors.build("auto", weights=str(tmp_path / "missing.pth"))


def test_channels_last_is_only_a_layout_choice():
    image = torch.rand(1, 3, 24, 24)
    fast = feature_extractors.build("vgg19", weights="random", width_multiplier=0.25)
    plain = feature_extractors.build(
        "vgg19", weights="random", width_multiplier=0.25, channels_last=False
    )
    for name, value in fast(image).items():
        torch.testing.assert_close(value, plain(image)[name], atol=1e-4, rtol=1e-4)


def test_missing_weights_message_names_where_the_path_came_from(tmp_path, monkeypatch):
    missing = tmp_path / "nope.pth"
    with pytest.raises(WeightsError) as info:
        feature_extractors.build("vgg19", weights=str(missing))
    assert "unset GST_VGG_WEIGHTS" not in str(info.value)  # the variable is not even set
    with pytest.raises(WeightsError, match="given by --weights") as info:
        read_state_dict(missing, source="argument")
    assert "GST_VGG_WEIGHTS" not in str(info.value)
    with pytest.raises(WeightsError, match="set by GST_VGG_WEIGHTS.*fix or unset GST_VGG"):
        read_state_dict(missing, source="env")


def test_unreadable_weights_keep_only_torchs_first_sentence(tmp_path):
    from pathlib import Path

    # A pickle with a non-tensor global: torch's error goes on to advise
    # weights_only=False, which must not reach the user.
    torch.save({"features.0.weight": Path("x")}, tmp_path / "pickled.pth")
    with pytest.raises(WeightsError, match="cannot read weights file") as info:
        read_state_dict(tmp_path / "pickled.pth")
    assert "weights_only" not in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is not None


def test_default_extractor_raises_for_a_corrupt_cached_file(tmp_path, capsys):
    cache = tmp_path / "hub" / "checkpoints"  # conftest points torch.hub there
    cache.mkdir(parents=True)
    (cache / "vgg19-dcbb9e9d.pth").write_bytes(b"truncated download")
    with pytest.raises(WeightsError, match="cannot read weights file"):
        feature_extractors.build("auto")
    assert OFFLINE_NOTICE not in capsys.readouterr().err
