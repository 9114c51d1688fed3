"""Issue 19, item 7: images smaller than a network's padding go through translate and
stylize --model (a 1x1 image through transformer_net, 40x3 through the ResNet crashed)."""

from __future__ import annotations

import pytest
import torch

from gst_core.apply.apply_generator import apply_image_generator, pad_to_multiple
from gst_core.apply.translate import translate
from gst_core.images import load_image, save_image
from gst_core.kinds import generators


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        ({"name": "transformer_net", "channels": 4, "residual_blocks": 1}, (1, 1)),
        ({"name": "transformer_net", "channels": 4, "residual_blocks": 1}, (3, 40)),
        ({"name": "resnet", "n_blocks": 1, "width": 4}, (40, 3)),
        ({"name": "resnet", "n_blocks": 1, "width": 4}, (1, 1)),
    ],
)
def test_tiny_images_are_translated_at_their_own_size(tmp_path, spec, size):
    torch.manual_seed(0)
    generator = generators.build(spec).eval()
    h, w = size
    source = save_image(torch.rand(1, 3, h, w), tmp_path / "in" / "tiny.png")
    save_image(torch.rand(1, 3, 16, 16), tmp_path / "in" / "normal.png")
    result = translate(generator, tmp_path / "in", tmp_path / "out", progress=False)
    assert sorted(p.name for p in result.written) == ["normal.png", "tiny.png"]
    assert tuple(load_image(tmp_path / "out" / "tiny.png").shape[-2:]) == (h, w)
    # The tiny image is the top-left corner of its edge-replicated padding, as computed here.
    x = load_image(source)
    padded = torch.nn.functional.pad(
        x * 2 - 1, (0, max(0, 16 - w), 0, max(0, 16 - h)), mode="replicate"
    )
    with torch.no_grad():
        expected = ((generator(padded)[..., :h, :w] + 1) / 2).clamp(0, 1)
    torch.testing.assert_close(apply_image_generator(generator, x), expected)


def test_images_of_normal_size_are_not_padded_further():
    image = torch.rand(1, 3, 33, 40)
    padded, size = pad_to_multiple(image, 4, 16)
    assert size == (33, 40) and tuple(padded.shape[-2:]) == (36, 40)
    padded, _ = pad_to_multiple(torch.rand(1, 3, 5, 40), 4, 16)
    assert tuple(padded.shape[-2:]) == (16, 40)
