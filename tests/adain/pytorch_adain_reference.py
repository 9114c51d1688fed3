"""pytorch-AdaIN (naoto0804/pytorch-AdaIN), written out from its net.py, function.py and test.py.

The independent reference for gst's AdaIN: the encoder (``net.vgg`` cut at relu4_1),
the decoder and ``test.py``'s ``style_transfer`` forward. Used by the AdaIN tests and
by ``benchmarks/adain/bench_speed.py``.
"""

from __future__ import annotations

import torch
from torch import nn


def reference_vgg() -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    cin = 3
    for widths, pool in (((64, 64), True), ((128, 128), True), ((256,) * 4, True), ((512,), False)):
        for w in widths:
            layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, w, (3, 3)), nn.ReLU()]
            cin = w
        if pool:
            layers.append(nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True))
    return nn.Sequential(*layers)  # net.vgg's first 31 children


def reference_decoder() -> nn.Sequential:
    spec = [(512, 256), "up", (256, 256), (256, 256), (256, 256), (256, 128), "up",
            (128, 128), (128, 64), "up", (64, 64), (64, 3)]  # fmt: skip
    layers: list[nn.Module] = []
    for i, item in enumerate(spec):
        if item == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            continue
        layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(*item, (3, 3))]
        if i < len(spec) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def calc_mean_std(feat: torch.Tensor, eps: float = 1e-5):
    n, c = feat.size()[:2]
    feat_var = feat.view(n, c, -1).var(dim=2) + eps
    feat_std = feat_var.sqrt().view(n, c, 1, 1)
    feat_mean = feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1)
    return feat_mean, feat_std


def adaptive_instance_normalization(content_feat, style_feat):
    size = content_feat.size()
    style_mean, style_std = calc_mean_std(style_feat)
    content_mean, content_std = calc_mean_std(content_feat)
    normalized_feat = (content_feat - content_mean.expand(size)) / content_std.expand(size)
    return normalized_feat * style_std.expand(size) + style_mean.expand(size)


def style_transfer(vgg, decoder, content, style, alpha=1.0):
    content_f = vgg(content)
    style_f = vgg(style)
    feat = adaptive_instance_normalization(content_f, style_f)
    feat = feat * alpha + content_f * (1 - alpha)
    return decoder(feat)
