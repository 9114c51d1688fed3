"""The feature extractors: the FID InceptionV3 (pytorch-fid's weight layout) and random_pool."""

from __future__ import annotations

import pytest
import torch

import gst_core
from gst_core.metrics import pooled_features, resolve_extractor
from gst_plugins.feature_extractors.inception import InceptionV3FID
from gst_plugins.feature_extractors.weights import WeightsError


@pytest.fixture(scope="module")
def untrained():
    torch.manual_seed(0)
    return InceptionV3FID(weights="random")


def fid_weights_file(path, model: InceptionV3FID, *, seed: int = 1, classifier: bool = True):
    """A file laid out like pt_inception-2015-12-05-6726825d.pth, with random values."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        if key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(value.shape, generator=g) * 0.1
    if classifier:  # the file's 1008-class classifier, unused for features
        state["fc.weight"] = torch.randn(1008, 2048, generator=g)
        state["fc.bias"] = torch.randn(1008, generator=g)
    torch.save(state, path)
    return state


def test_architecture_has_pytorch_fid_names_and_shapes(untrained):
    state = untrained.state_dict()
    expected = {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Conv2d_4a_3x3.bn.running_var": (192,),
        "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
        "Mixed_5d.branch5x5_2.conv.weight": (64, 48, 5, 5),
        "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
        "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
        "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
        "Mixed_7c.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1),
        "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    # torchvision's Inception3 has 27,161,264 parameters; less its 1000-class fc (2,049,000)
    # and its AuxLogits head (3,326,696), 21,785,568 remain, as in the FID network.
    assert sum(p.numel() for p in untrained.parameters()) == 21_785_568


def test_loads_a_pytorch_fid_state_dict(tmp_path, untrained):
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    state = fid_weights_file(path, untrained)
    model = InceptionV3FID(weights=path)
    assert model.weights_path == path
    for key in ("Mixed_6b.branch7x7_2.conv.weight", "Conv2d_1a_3x3.bn.running_var"):
        assert torch.equal(model.state_dict()[key], state[key])
    images = torch.rand(2, 3, 40, 56)
    out = model(images)
    assert list(out) == ["pool"] and out["pool"].shape == (2, 2048)
    assert not torch.allclose(out["pool"], untrained(images)["pool"])
    # Resizing inside forward is the same bilinear resize that gst eval applies per image.
    resized = torch.nn.functional.interpolate(images, (299, 299), mode="bilinear")
    assert torch.allclose(model(resized)["pool"], out["pool"])


def test_found_through_the_environment_variable(tmp_path, monkeypatch, untrained):
    path = tmp_path / "fid.pth"
    fid_weights_file(path, untrained, classifier=False)
    monkeypatch.setenv("GST_INCEPTION_WEIGHTS", str(path))
    extractor, name = resolve_extractor("fid_auto", announce=None)
    assert name == "fid_auto" and type(extractor).__name__ == "InceptionV3FID"
    assert extractor.weights_path == path


def test_wrong_files_are_refused_with_the_keys(tmp_path, untrained):
    path = tmp_path / "partial.pth"
    state = fid_weights_file(path, untrained)
    del state["Mixed_7c.branch1x1.conv.weight"]
    state["Mixed_7c.extra"] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(WeightsError, match="1 missing keys \\(Mixed_7c.branch1x1.conv.weight"):
        InceptionV3FID(weights=path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read InceptionV3 weights"):
        InceptionV3FID(weights=tmp_path / "junk.pth")
    with pytest.raises(WeightsError, match="does not exist"):
        InceptionV3FID(weights=tmp_path / "absent.pth")


def test_without_weights_inception_says_where_to_get_them(monkeypatch, tmp_path):
    monkeypatch.delenv("GST_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsError, match="GST_INCEPTION_WEIGHTS=PATH.*random_pool"):
        gst_core.feature_extractors.build("inception")


def test_auto_falls_back_to_random_pool_and_says_so(monkeypatch, tmp_path):
    monkeypatch.delenv("GST_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    lines = []
    extractor, name = resolve_extractor(None, announce=lines.append)
    assert name == "fid_auto" and type(extractor).__name__ == "RandomPool"
    assert len(lines) == 1 and "NOT comparable with published" in lines[0]


def test_random_pool_is_deterministic_and_pools_every_scale():
    images = torch.rand(3, 3, 48, 48)
    a = gst_core.feature_extractors.build("random_pool")
    b = gst_core.feature_extractors.build("random_pool")
    fa = a(images)["pool"]
    assert fa.shape == (3, 2 * 64 * 4)
    assert torch.equal(fa, b(images)["pool"])
    assert not torch.equal(
        fa, gst_core.feature_extractors.build("random_pool", seed=1)(images)["pool"]
    )
    # The first 64 numbers are the spatial means of the finest level's responses.
    x = torch.nn.functional.interpolate(images, (64, 64), mode="bilinear")
    finest = dict(a.net.iter_taps(x))["scale1"]
    assert torch.allclose(fa[:, :64], finest.mean((2, 3)), atol=1e-6)


def test_any_extractor_gives_pooled_vectors():
    # A plugin without a "pool" output is measured on its deepest tap, spatially averaged.
    extractor = gst_core.feature_extractors.build(
        "random_multiscale", layers=["scale1", "scale2"], channels=8, num_scales=2
    )
    images = torch.rand(2, 3, 16, 16)
    features = pooled_features(extractor, images)
    assert features.dtype == torch.float64 and features.shape == (2, 8)
    assert torch.allclose(features, extractor(images)["scale2"].mean((2, 3)).double())
