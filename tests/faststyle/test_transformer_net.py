"""transformer_net: the reference's size, any input size, the [-1, 1] contract."""

from __future__ import annotations

import pytest
import torch

from gst_core.apply.apply_generator import apply_image_generator
from gst_core.kinds import generators


def test_reference_sizes_have_the_reference_parameter_count():
    # pytorch/examples fast_neural_style TransformerNet: 1,679,235 parameters.
    net = generators.build("transformer_net")
    assert sum(p.numel() for p in net.parameters()) == 1_679_235
    assert net.input_kind == "image" and net.size_multiple == 4


def test_parameter_count_by_hand_for_a_small_width():
    c, blocks = 4, 2
    conv = lambda cin, cout, k: cin * cout * k * k + cout  # noqa: E731
    norm = lambda ch: 2 * ch  # noqa: E731 - affine instance norm: scale and shift
    expected = (
        conv(3, c, 9)
        + norm(c)
        + conv(c, 2 * c, 3)
        + norm(2 * c)
        + conv(2 * c, 4 * c, 3)
        + norm(4 * c)
        + blocks * 2 * (conv(4 * c, 4 * c, 3) + norm(4 * c))
        + conv(4 * c, 2 * c, 3)
        + norm(2 * c)
        + conv(2 * c, c, 3)
        + norm(c)
        + conv(c, 3, 9)
    )
    net = generators.build("transformer_net", channels=c, residual_blocks=blocks)
    assert sum(p.numel() for p in net.parameters()) == expected


@pytest.mark.parametrize("size", [(13, 7), (9, 11), (16, 20), (5, 7)])
def test_output_size_equals_input_size(size):
    torch.manual_seed(0)
    net = generators.build("transformer_net", channels=4, residual_blocks=1).eval()
    x = torch.rand(2, 3, *size) * 2 - 1
    y = net(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1
    out = apply_image_generator(net, (x + 1) / 2)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1


def test_padded_size_is_the_padded_input_cropped():
    # An odd size runs as its reflection-padded multiple of 4, cropped back.
    torch.manual_seed(0)
    net = generators.build("transformer_net", channels=4, residual_blocks=1).eval()
    x = torch.rand(1, 3, 10, 9) * 2 - 1
    padded = torch.nn.functional.pad(x, (0, 3, 0, 2), mode="reflect")
    torch.testing.assert_close(net(x), net(padded)[..., :10, :9])


def test_labels_are_refused():
    net = generators.build("transformer_net", channels=4, residual_blocks=0)
    with pytest.raises(Exception, match="unconditional"):
        net(torch.zeros(1, 3, 8, 8), torch.zeros(1, dtype=torch.long))
