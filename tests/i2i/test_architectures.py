"""The pix2pix/CycleGAN networks against the reference's parameter counts and shapes."""

from __future__ import annotations

import math

import pytest
import torch

from gst_core.kinds import discriminators, generators
from gst_plugins._shared.blocks import ArchitectureError
from gst_plugins._shared.init import init_weights


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        # The counts junyanz/pytorch-CycleGAN-and-pix2pix prints for its defaults (ngf/ndf 64).
        ("generator", {"name": "resnet_9blocks"}, 11_378_179),
        ("generator", {"name": "unet_256", "norm": "batch"}, 54_413_955),
        ("discriminator", {"name": "patchgan", "norm": "instance"}, 2_764_737),
        # By hand: conv biases dropped (896) before BatchNorm, which adds 2·896 affine parameters.
        ("discriminator", {"name": "patchgan", "norm": "batch"}, 2_764_737 - 896 + 2 * 896),
        # By hand: 3·64+64 + 64·128+128 + 128+1.
        ("discriminator", {"name": "pixel"}, 8_705),
    ],
)
def test_parameter_counts_match_the_reference(kind, spec, expected):
    registry = {"generator": generators, "discriminator": discriminators}[kind]
    assert count(registry.build(spec)) == expected


def test_the_aliases_are_the_general_networks():
    assert count(generators.build("resnet_6blocks", width=8)) == count(
        generators.build("resnet", n_blocks=6, width=8)
    )
    assert count(generators.build("unet_128", width=4)) == count(
        generators.build("unet", num_downs=7, width=4)
    )


def test_patchgan_gives_30x30_scores_for_256_images():
    d = discriminators.build("patchgan", width=8)
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert discriminators.build("pixel", width=4)(torch.zeros(2, 3, 7, 5)).shape == (2, 1, 7, 5)


@pytest.mark.parametrize("upsampling", ["transposed", "nearest"])
def test_resnet_keeps_the_size_and_range(upsampling):
    torch.manual_seed(0)
    g = generators.build("resnet", n_blocks=2, width=4, upsampling=upsampling, out_channels=1)
    out = g(torch.randn(2, 3, 20, 12) * 3)
    assert out.shape == (2, 1, 20, 12) and out.abs().max() <= 1
    assert g.size_multiple == 4 and g.input_kind == "image"


def test_unet_needs_its_multiple_and_uses_skip_connections():
    torch.manual_seed(0)
    g = generators.build("unet", num_downs=5, width=4, dropout=0.0).eval()
    assert g.size_multiple == 32
    x = torch.randn(1, 3, 32, 64)
    assert g(x).shape == (1, 3, 32, 64)
    # A skip connection carries the top level straight to the output: changing one input pixel
    # changes that output pixel even though the bottleneck is 1×2.
    y = x.clone()
    y[0, :, 5, 5] += 1
    diff = (g(y) - g(x)).abs().sum(1)[0]
    assert diff[5, 5] > 0
    with pytest.raises(ArchitectureError, match="num_downs"):
        generators.build("unet", num_downs=4)
    with pytest.raises(ArchitectureError, match="norm"):
        generators.build("resnet", norm="layer")


def test_unet_dropout_is_the_noise_of_training_mode():
    torch.manual_seed(0)
    g = generators.build("unet_128", width=2)
    x = torch.randn(2, 3, 128, 128)
    assert not torch.equal(g(x), g(x))
    g.eval()
    assert torch.equal(g(x), g(x))


def test_init_schemes():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 128, 3)
    init_weights(conv, "normal", 0.02)
    assert abs(conv.weight.std().item() - 0.02) < 0.001 and conv.bias.abs().max() == 0
    init_weights(conv, "kaiming")
    assert abs(conv.weight.std().item() - math.sqrt(2 / (64 * 9))) < 0.005
    init_weights(conv, "orthogonal", 0.5)
    w = conv.weight.flatten(1)  # 128 × 576: orthonormal rows scaled by the gain
    assert torch.allclose(w @ w.T, 0.25 * torch.eye(128), atol=1e-4)
    init_weights(conv, "xavier", 1.0)
    assert abs(conv.weight.std().item() - math.sqrt(2 / (64 * 9 + 128 * 9))) < 0.003
    bn = torch.nn.BatchNorm2d(1000)
    init_weights(bn, "normal", 0.02)
    assert abs(bn.weight.mean().item() - 1) < 0.005


def test_init_is_seeded_and_an_option_of_every_network():
    torch.manual_seed(3)
    a = generators.build("resnet", n_blocks=1, width=4, init="xavier", init_gain=1.0)
    torch.manual_seed(3)
    b = generators.build("resnet", n_blocks=1, width=4, init="xavier", init_gain=1.0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    d = discriminators.build("patchgan", width=4, init="orthogonal", init_gain=1.0)
    first = d.net[0].weight.flatten(1)  # 4 × 48
    assert torch.allclose(first @ first.T, torch.eye(4), atol=1e-5)
    with pytest.raises(Exception, match="init must be one of"):
        generators.build("unet", init="uniform")
