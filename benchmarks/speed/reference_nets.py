"""Plain-torch pix2pix/CycleGAN networks, written from the papers' and junyanz's descriptions.

Isola et al. 2017 (pix2pix, appendix 6.1.1/6.1.2) and Zhu et al. 2017 (CycleGAN, appendix
7.2), as the junyanz repository's README and options describe them: ``unet_256`` (C64-C128-
C256-C512-C512-C512-C512-C512 encoder, mirrored decoder with skips, batch norm, dropout 0.5 in
the three innermost decoder levels, tanh), the 70x70 PatchGAN (C64-C128-C256-C512, 4x4
convolutions, LeakyReLU 0.2, the last two at stride 1), ``resnet_9blocks`` (c7s1-64, d128,
d256, nine R256, u128, u64, c7s1-3, reflection padding, instance norm without affine), weights
drawn from N(0, 0.02) (norm scales from N(1, 0.02)), and the 50-image history pool. A
normalisation with its own shift makes the convolution before it bias-free (batch norm); with
instance norm the bias stays. Nothing here imports gst.
"""

from __future__ import annotations

import random

import torch
from torch import nn


def norm_and_bias(norm: str):
    if norm == "batch":
        return (lambda c: nn.BatchNorm2d(c)), False
    return (lambda c: nn.InstanceNorm2d(c)), True


class SkipLevel(nn.Module):
    """down -> inner levels -> up, the level's input concatenated to its output."""

    def __init__(
        self,
        outer,
        inner,
        inner_module=None,
        *,
        first_in=None,
        outermost=False,
        innermost=False,
        dropout=False,
        norm="batch",
    ):
        super().__init__()
        make_norm, bias = norm_and_bias(norm)
        self.outermost = outermost
        down = nn.Conv2d(first_in or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            layers = [
                down,
                inner_module,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1),
                nn.Tanh(),
            ]
        elif innermost:
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias),
                make_norm(outer),
            ]
        else:
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                make_norm(inner),
                inner_module,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=bias),
                make_norm(outer),
            ]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def unet_256(ngf=64):
    level = SkipLevel(ngf * 8, ngf * 8, innermost=True)
    for _ in range(3):
        level = SkipLevel(ngf * 8, ngf * 8, level, dropout=True)
    for mult in (4, 2, 1):
        level = SkipLevel(ngf * mult, ngf * mult * 2, level)
    return init_normal(SkipLevel(3, ngf, level, first_in=3, outermost=True))


def patchgan_70(in_channels, ndf=64, norm="batch"):
    make_norm, bias = norm_and_bias(norm)
    layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    channels = ndf
    for i, stride in ((1, 2), (2, 2), (3, 1)):
        out = ndf * min(2**i, 8)
        layers += [
            nn.Conv2d(channels, out, 4, stride, 1, bias=bias),
            make_norm(out),
            nn.LeakyReLU(0.2, True),
        ]
        channels = out
    layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
    return init_normal(nn.Sequential(*layers))


class ResidualBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


def resnet_9blocks(ngf=64):
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    for c in (ngf, ngf * 2):
        layers += [nn.Conv2d(c, c * 2, 3, 2, 1), nn.InstanceNorm2d(c * 2), nn.ReLU(True)]
    layers += [ResidualBlock(ngf * 4) for _ in range(9)]
    for c in (ngf * 4, ngf * 2):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1),
            nn.InstanceNorm2d(c // 2),
            nn.ReLU(True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return init_normal(nn.Sequential(*layers))


def init_normal(net, gain=0.02):
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return net


class HistoryPool:
    """Shrivastava et al.'s buffer of 50 generated images: past the first 50, each new image
    is, with probability 1/2, swapped for a stored one (which is returned instead)."""

    def __init__(self, size=50):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images.detach():
            image = image[None]
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out)


def copy_weights(source: nn.Module, target: nn.Module) -> None:
    """``target`` gets ``source``'s tensors in registration order (names differ, shapes must not):
    the same outputs afterwards show the two are the same architecture."""
    a, b = list(source.state_dict().values()), target.state_dict()
    if len(a) != len(b):
        raise SystemExit(f"{len(a)} tensors vs {len(b)}: not the same architecture")
    for (name, t), s in zip(b.items(), a, strict=True):
        if t.shape != s.shape:
            raise SystemExit(f"{name}: {tuple(s.shape)} vs {tuple(t.shape)}")
        t.copy_(s)
