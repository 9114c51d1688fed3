"""The peers' generator layouts, written for these tests from a description of each
architecture (junyanz/pytorch-CycleGAN-and-pix2pix's ``ResnetGenerator`` and
``UnetGenerator``, pytorch/examples' ``TransformerNet``): the module and parameter
names the peers save, and a forward pass independent of gst's classes.

Only what a saved state dict and a test-time forward need: no initialisation
schemes, no options the tests do not use.
"""

from __future__ import annotations

import torch
from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    # The reference: batch = BatchNorm2d(affine); instance = InstanceNorm2d, no affine,
    # no running statistics.
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.InstanceNorm2d(channels)


class PeerResnetBlock(nn.Module):
    def __init__(self, dim: int, norm: str, use_dropout: bool) -> None:
        super().__init__()
        bias = norm == "instance"
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), _norm(norm, dim)]
        layers.append(nn.ReLU(True))
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), _norm(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class PeerResnetGenerator(nn.Module):
    """c7s1-ngf, two stride-2 downsamplings, n blocks, two transposed-conv upsamplings, c7s1."""

    def __init__(self, in_nc, out_nc, ngf, n_blocks, norm="instance", use_dropout=False):
        super().__init__()
        bias = norm == "instance"
        layers = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_nc, ngf, 7, bias=bias),
            _norm(norm, ngf),
            nn.ReLU(True),
        ]
        for mult in (1, 2):
            c = ngf * mult
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), _norm(norm, 2 * c), nn.ReLU(True)]
        layers += [PeerResnetBlock(4 * ngf, norm, use_dropout) for _ in range(n_blocks)]
        for mult in (4, 2):
            c = ngf * mult
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                _norm(norm, c // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PeerUnetBlock(nn.Module):
    def __init__(self, outer, inner, norm, sub=None, in_nc=None, outermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        bias = norm == "instance"
        innermost = sub is None
        down = nn.Conv2d(in_nc or outer, inner, 4, 2, 1, bias=bias)
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1)]
            layers.append(nn.Tanh())
        elif innermost:
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True)]
            layers += [nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=bias), _norm(norm, outer)]
        else:
            layers = [nn.LeakyReLU(0.2, True), down, _norm(norm, inner), sub, nn.ReLU(True)]
            layers += [nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1, bias=bias)]
            layers += [_norm(norm, outer)] + ([nn.Dropout(0.5)] if dropout else [])
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


class PeerUnetGenerator(nn.Module):
    def __init__(self, in_nc, out_nc, num_downs, ngf, norm="batch"):
        super().__init__()
        block = PeerUnetBlock(8 * ngf, 8 * ngf, norm)
        for _ in range(num_downs - 5):
            block = PeerUnetBlock(8 * ngf, 8 * ngf, norm, block, dropout=True)
        for mult in (4, 2, 1):
            block = PeerUnetBlock(mult * ngf, 2 * mult * ngf, norm, block)
        self.model = PeerUnetBlock(out_nc, ngf, norm, block, in_nc=in_nc, outermost=True)

    def forward(self, x):
        return self.model(x)


class PeerConvLayer(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x):
        if self.upsample:
            x = nn.functional.interpolate(x, scale_factor=self.upsample, mode="nearest")
        return self.conv2d(self.reflection_pad(x))


class PeerResidual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.in1 = PeerConvLayer(c, c, 3), nn.InstanceNorm2d(c, affine=True)
        self.conv2, self.in2 = PeerConvLayer(c, c, 3), nn.InstanceNorm2d(c, affine=True)

    def forward(self, x):
        return x + self.in2(self.conv2(torch.relu(self.in1(self.conv1(x)))))


class PeerTransformerNet(nn.Module):
    """0..255 in, 0..255 out (unclamped), as pytorch/examples' fast_neural_style."""

    def __init__(self):
        super().__init__()
        self.conv1, self.in1 = PeerConvLayer(3, 32, 9), nn.InstanceNorm2d(32, affine=True)
        self.conv2, self.in2 = PeerConvLayer(32, 64, 3, 2), nn.InstanceNorm2d(64, affine=True)
        self.conv3, self.in3 = PeerConvLayer(64, 128, 3, 2), nn.InstanceNorm2d(128, affine=True)
        for i in range(1, 6):
            setattr(self, f"res{i}", PeerResidual(128))
        self.deconv1 = PeerConvLayer(128, 64, 3, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = PeerConvLayer(64, 32, 3, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = PeerConvLayer(32, 3, 9)

    def forward(self, x):
        y = torch.relu(self.in1(self.conv1(x)))
        y = torch.relu(self.in2(self.conv2(y)))
        y = torch.relu(self.in3(self.conv3(y)))
        for i in range(1, 6):
            y = getattr(self, f"res{i}")(y)
        y = torch.relu(self.in4(self.deconv1(y)))
        y = torch.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def randomise(net: nn.Module, seed: int) -> nn.Module:
    """Seeded random weights everywhere, batch-norm running statistics included, so that a
    misplaced tensor cannot go unnoticed; eval mode, as a model is applied."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=g) * 0.2)
    return net.eval()
