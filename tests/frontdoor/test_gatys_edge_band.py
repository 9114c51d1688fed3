"""Issue 20 item 13: Gatys output had a saturated band along the bottom/right edge.

The cause: the extractors pooled with ``floor``, so on an odd-sized level the last
row/column fell out of every coarser level (and out of the content tap, which sits at
1/4 resolution). Those pixels were held by the finest style levels alone and drifted
to the clamp. Pooling now uses ``ceil_mode`` (as Caffe's VGG, which neural-style uses).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gst_core.pipelines.style_transfer import stylize
from gst_plugins.feature_extractors.random_multiscale import RandomMultiscale
from gst_plugins.feature_extractors.vgg import VGG19


def _edge_gradients(extractor, height: int, width: int) -> dict[str, tuple[float, float]]:
    """Per tap: |d tap / d image| summed over the last row and over the last column."""
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    image.requires_grad_(True)
    out = {}
    for name, features in extractor(image).items():
        (grad,) = torch.autograd.grad(features.square().sum(), image, retain_graph=True)
        grad = grad.abs().sum(1)[0]
        out[name] = (grad[-1].sum().item(), grad[:, -1].sum().item())
    return out


EXTRACTORS = {
    "random_multiscale": lambda: RandomMultiscale(channels=8),
    "vgg19": lambda: VGG19(
        layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        weights="random",
        width_multiplier=0.125,
    ),
}


@pytest.mark.parametrize("name", EXTRACTORS)
def test_every_tap_sees_the_last_row_and_column_of_an_odd_sized_image(name):
    extractor = EXTRACTORS[name]()
    # 37 and 45 are odd at the first pooling; 18/23 and 9/12 odd again further down.
    for tap, (last_row, last_col) in _edge_gradients(extractor, 37, 45).items():
        assert last_row > 0, f"{name} {tap} ignores the last row"
        assert last_col > 0, f"{name} {tap} ignores the last column"


def _photo(name: str, size: int) -> torch.Tensor:
    """A scikit-image photo, its longer side resized to ``size``, as (1, 3, H, W) in [0, 1]."""
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image

    image = Image.fromarray(getattr(skimage_data, name)())
    w, h = image.size
    scale = size / max(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255


def _saturated(image: torch.Tensor) -> torch.Tensor:
    """Per pixel: some channel at 0-5 or 250-255 (of 255)."""
    pixels = (image[0] * 255).round()
    return ((pixels >= 250) | (pixels <= 5)).any(0).float()


def test_gatys_bottom_edge_saturates_no_more_than_the_top_on_a_real_photo():
    # The case: chelsea at 256 px with the offline extractor. 170 rows are odd
    # from the second pooling on (85); before the fix the last two rows were saturated
    # in 77% of their pixels against 33% for the first two (coffee as the style).
    content, style = _photo("chelsea", 256), _photo("coffee", 256)
    assert content.shape[-2] % 4 != 0
    out = stylize(content, style, steps=60, progress=False, extractor=RandomMultiscale())
    saturated = _saturated(out)
    top, bottom = saturated[:2].mean().item(), saturated[-2:].mean().item()
    assert bottom <= 1.5 * top + 0.05, f"bottom rows {bottom:.0%} saturated vs top {top:.0%}"
