"""Tiled inference: blend weights, exactness against untiled passes, thumbnail statistics,
the uint8 file path, the memory budget, the CLI options, and a real photo (rocket)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.apply.memory_budget import MemoryOptionError, activation_bytes_per_pixel, parse_memory
from gst_core.apply.thumbnail_norm import fixed_instance_norm, thumbnail_statistics
from gst_core.apply.tiling import (
    TileOptionError,
    Tiling,
    apply_tiled,
    axis_weights,
    choose_tile,
    tile_spans,
)
from gst_core.apply.translate import translate
from gst_core.cli import main
from gst_core.kinds import generators


class ConvNet(nn.Module):
    """Three 3×3 convolutions (receptive radius 3), optionally instance-normalised."""

    input_kind = "image"
    size_multiple = 1

    def __init__(self, norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout in [(3, 8), (8, 8)]:
            layers += [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")]
            layers += [nn.InstanceNorm2d(cout, affine=True)] if norm else []
            layers += [nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.Conv2d(8, 3, 3, padding=1, padding_mode="reflect"))
        if norm:  # non-trivial affine parameters, so the affine part is checked too
            for m in self.body:
                if isinstance(m, nn.InstanceNorm2d):
                    nn.init.normal_(m.weight, 1.0, 0.3)
                    nn.init.normal_(m.bias, 0.0, 0.3)

    def forward(self, x):
        return torch.tanh(self.body(x))


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "align"),
    [
        (100, 32, 8, 1),
        (101, 32, 8, 4),
        (33, 32, 8, 4),
        (427, 256, 32, 4),
        (640, 256, 0, 4),
        (1000, 96, 48, 8),
        (20, 64, 16, 1),
        (1100, 1024, 128, 256),
        (5000, 64, 32, 16),
    ],
)
def test_tiles_cover_the_axis_and_their_weights_sum_to_one(length, tile, overlap, align):
    spans = tile_spans(length, tile, overlap, align)
    weights = axis_weights(spans, overlap)
    total = np.zeros(length)
    for (start, end), w in zip(spans, weights, strict=True):
        assert start % align == 0 and end - start <= tile
        assert w.min() >= 0 and w.max() <= 1
        total[start:end] += w
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert spans[0][0] == 0 and spans[-1][1] == length
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end - start >= overlap  # neighbours share at least the overlap
    # In 2-D the weight of a tile is the outer product, so the sum is one as well.
    grid = sum(np.outer(a, b).sum() for a in weights for b in weights)
    assert grid == pytest.approx(length * length)


def test_the_ramp_is_a_raised_cosine_over_the_middle_half_of_the_shared_band():
    spans = [(0, 64), (32, 96)]  # shared band 32..64: cut at 48, ramp 40..56
    w0, w1 = axis_weights(spans, overlap=32)
    x = np.arange(64) + 0.5
    expected = np.where(x < 40, 1.0, np.where(x > 56, 0.0, np.cos((x - 40) / 16 * np.pi / 2) ** 2))
    np.testing.assert_allclose(w0, expected, atol=1e-12)
    np.testing.assert_allclose(w0[32:] + w1[:32], 1.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 3, 77, 101), (2, 3, 64, 33), (1, 3, 31, 29)])
def test_norm_free_network_tiled_equals_untiled(shape):
    torch.manual_seed(0)
    net = ConvNet().eval()
    x = torch.rand(*shape)
    # Receptive radius 3: an overlap of 12 leaves every used pixel 3 pixels of context.
    tiled = apply_tiled(net, x, Tiling(tile=24, overlap=12))
    torch.testing.assert_close(tiled, apply_image_generator(net, x), atol=1e-5, rtol=0)


def test_strided_resnet_without_norm_tiled_equals_untiled():
    torch.manual_seed(0)
    net = generators.build({"name": "resnet", "n_blocks": 1, "width": 4, "norm": "none"}).eval()
    x = torch.rand(1, 3, 170, 263)
    # Radius of this ResNet: 3 + 1 + 2 + 2·4 (a block at 1/4) + 2 + 1 + 3 = 20 pixels.
    tiled = apply_tiled(net, x, Tiling(tile=160, overlap=80))
    torch.testing.assert_close(tiled, apply_image_generator(net, x), atol=1e-5, rtol=0)


def test_instance_norm_with_the_same_statistics_tiled_equals_untiled():
    torch.manual_seed(0)
    net = ConvNet(norm=True).eval()
    x = torch.rand(1, 3, 64, 96)
    # A half-size thumbnail (the code scales by sqrt(pixels / (H·W)) = 0.5 here).
    thumb = F.interpolate(x, size=(32, 48), mode="bilinear", antialias=True)
    stats = thumbnail_statistics(net, lambda: apply_image_generator(net, thumb))
    # Hand-computed: the first norm's statistics are those of the first convolution's output.
    first = net.body[0](thumb * 2 - 1).double()
    torch.testing.assert_close(stats[0][0].double(), first.mean((2, 3)), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        stats[0][1].double(), first.var((2, 3), unbiased=False), atol=1e-5, rtol=0
    )
    with fixed_instance_norm(net, stats):
        reference = apply_image_generator(net, x)
    tiled = apply_tiled(net, x, Tiling(tile=32, overlap=12, thumbnail=64 * 96 // 4))
    torch.testing.assert_close(tiled, reference, atol=1e-5, rtol=0)
    # The statistics matter: with the image's own statistics the output is different,
    # and a thumbnail as big as the image gives back exactly the untiled network.
    assert (reference - apply_image_generator(net, x)).abs().max() > 1e-3
    whole = apply_tiled(net, x, Tiling(tile=32, overlap=12))
    torch.testing.assert_close(whole, apply_image_generator(net, x), atol=1e-5, rtol=0)
    # The layers are restored afterwards.
    assert "forward" not in vars(net.body[1])


def test_images_smaller_than_a_tile_and_uint8_arrays():
    torch.manual_seed(0)
    net = ConvNet(norm=True).eval()
    for shape in [(3, 5, 7), (3, 2, 3), (3, 40, 17)]:
        x = torch.rand(*shape)
        torch.testing.assert_close(
            apply_tiled(net, x, Tiling(tile=64)), apply_image_generator(net, x), atol=1e-6, rtol=0
        )
    array = (np.random.default_rng(0).random((45, 70, 3)) * 255).astype(np.uint8)
    out = apply_tiled(net, array, Tiling(tile=32, overlap=16))
    assert out.dtype == np.uint8 and out.shape == (45, 70, 3)
    x = torch.from_numpy(array).permute(2, 0, 1).float() / 255
    expected = apply_image_generator(net, x).permute(1, 2, 0).numpy() * 255
    assert np.abs(out - expected).max() <= 0.5 + 1e-3  # rounding to uint8 only


def test_automatic_tiling_follows_the_memory_budget():
    torch.manual_seed(0)
    net = ConvNet().eval()
    per_pixel = activation_bytes_per_pixel(net, 3, torch.device("cpu"))
    # The live activations: input + two 8-channel maps + the output, 4 bytes each, ×1.5.
    assert 3 * 4 * 1.5 < per_pixel <= (3 + 8 + 8 + 3) * 4 * 1.5 + 1
    shape = (1, 3, 300, 200)
    assert choose_tile(net, shape, torch.device("cpu"), Tiling()) is None  # fits the default
    small = Tiling(max_memory=int(per_pixel * 100 * 100))
    assert choose_tile(net, shape, torch.device("cpu"), small) == 100
    assert choose_tile(net, shape, torch.device("cpu"), Tiling(tile=0, max_memory=10)) is None
    x = torch.rand(shape)
    torch.testing.assert_close(
        apply_tiled(net, x, small), apply_image_generator(net, x), atol=1e-5, rtol=0
    )


def test_bad_tiling_options_are_clear_errors():
    with pytest.raises(TileOptionError, match=">= 0"):
        Tiling(tile=-1)
    with pytest.raises(TileOptionError, match="whole number"):
        Tiling(overlap=2.5)
    with pytest.raises(MemoryOptionError, match="2G, 512M"):
        Tiling(max_memory="lots")
    assert parse_memory("1.5G") == int(1.5 * 2**30) and parse_memory("512MiB") == 512 * 2**20
    with pytest.raises(TileOptionError, match="more than half the tile"):
        apply_tiled(ConvNet(), torch.rand(3, 40, 40), Tiling(tile=16, overlap=12))


def _rocket(path):
    skimage_data = pytest.importorskip("skimage.data")
    Image.fromarray(skimage_data.rocket()).save(path)
    return path


def _pix2pix_unet():
    """A seeded pix2pix U-Net (5 levels, batch norm) with its running statistics taken
    from crops of another photo, so that it is in eval mode what a trained one is."""
    skimage_data = pytest.importorskip("skimage.data")
    net = generators.build({"name": "unet", "num_downs": 5, "width": 8})
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # a cumulative average
    photo = torch.from_numpy(skimage_data.astronaut()).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        for i in range(4):
            net(photo[..., i * 64 : i * 64 + 256, i * 64 : i * 64 + 256])
    return net.eval()


@pytest.mark.parametrize(
    "make",
    [
        _pix2pix_unet,
        lambda: generators.build({"name": "resnet_9blocks", "width": 8}),  # CycleGAN's
        lambda: generators.build({"name": "transformer_net", "channels": 8}),  # fast_style's
    ],
    ids=["pix2pix_unet", "cyclegan_resnet_9blocks", "fast_style_transformer_net"],
)
def test_rocket_tiled_at_256_agrees_with_untiled(make, tmp_path):
    torch.manual_seed(0)
    net = make().eval()
    photo = _rocket(tmp_path / "rocket.png")
    for tile in (0, 256):
        translate(net, photo, tmp_path / f"t{tile}", tile=tile, progress=False)
    whole = np.asarray(Image.open(tmp_path / "t0" / "rocket.png"), dtype=np.float64) / 255
    tiled = np.asarray(Image.open(tmp_path / "t256" / "rocket.png"), dtype=np.float64) / 255
    assert whole.shape == tiled.shape == (427, 640, 3)
    assert whole.std() > 0.02  # the network does make a picture, not a flat colour
    assert np.abs(whole - tiled).mean() <= 0.01


def test_cli_tile_options(cyclegan_run, tmp_path, capsys):
    photo = tmp_path / "in.png"
    Image.fromarray((np.random.default_rng(0).random((70, 90, 3)) * 255).astype(np.uint8)).save(
        photo
    )
    run = str(cyclegan_run)
    assert main(["translate", run, str(photo), "-o", str(tmp_path / "a"), "--tile", "0"]) == 0
    argv = ["translate", run, str(photo), "-o", str(tmp_path / "b"), "--tile", "48"]
    assert main([*argv, "--overlap", "24"]) == 0
    a = np.asarray(Image.open(tmp_path / "a" / "in.png"), dtype=np.float64)
    b = np.asarray(Image.open(tmp_path / "b" / "in.png"), dtype=np.float64)
    assert a.shape == b.shape == (70, 90, 3) and 0 < np.abs(a - b).mean() / 255 < 0.02
    argv = ["stylize", "--model", run, str(photo), "-o", str(tmp_path / "c"), "--tile", "32"]
    assert main([*argv, "--max-memory", "64M", "--quiet"]) == 0
    assert Image.open(tmp_path / "c" / "in.png").size == (90, 70)
    capsys.readouterr()
    for bad, message in [
        (["translate", run, str(photo), "-o", str(tmp_path / "d"), "--tile", "-4"], ">= 0"),
        (["translate", run, str(photo), "-o", str(tmp_path / "d"), "--max-memory", "x"], "512M"),
        (["stylize", str(photo), str(photo), "--tile", "64"], "--model"),
    ]:
        assert main(bad) == 2
        err = capsys.readouterr().err
        assert "gst: error:" in err and message in err and "Traceback" not in err


def test_a_grayscale_generator_is_probed_and_tiled_with_its_own_channel_count():
    torch.manual_seed(0)
    net = generators.build({"name": "unet", "num_downs": 5, "width": 4, "in_channels": 1}).eval()
    photo = (np.random.default_rng(0).random((100, 130, 3)) * 255).astype(np.uint8)
    tiled = apply_tiled(net, photo, Tiling(max_memory="1M"))
    assert tiled.shape == (100, 130, 3) and tiled.dtype == np.uint8
