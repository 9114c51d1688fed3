"""Colour preservation keeps the content's colour statistics (measured)."""

from __future__ import annotations

import torch
from nst_helpers import smooth_image, stripes_image

from gst_core.pipelines import StyleTransfer, match_color_histogram
from gst_core.pipelines.color import rgb_to_ycbcr, ycbcr_to_rgb

CONTENT = smooth_image(40, 40, seed=3) * torch.tensor([1.0, 0.6, 0.3]).view(1, 3, 1, 1)  # warm
# Stripes alone have a rank-2 colour covariance; the smooth part makes it full rank.
STYLE = (0.6 * stripes_image(40, 40, seed=4) + 0.4 * smooth_image(40, 40, seed=6)) * torch.tensor(
    [0.3, 0.5, 1.0]
).view(1, 3, 1, 1)  # cold


def colour_stats(image):
    pixels = image.double().reshape(3, -1)
    return pixels.mean(1), torch.cov(pixels)


def test_ycbcr_round_trip():
    image = torch.rand(1, 3, 5, 7)
    torch.testing.assert_close(ycbcr_to_rgb(rgb_to_ycbcr(image)), image, atol=1e-5, rtol=0)


def test_histogram_matching_gives_the_style_the_content_mean_and_covariance():
    matched = match_color_histogram(STYLE, CONTENT)
    mean_m, cov_m = colour_stats(matched)
    mean_c, cov_c = colour_stats(CONTENT)
    torch.testing.assert_close(mean_m, mean_c, atol=0.02, rtol=0)
    torch.testing.assert_close(cov_m, cov_c, atol=0.005, rtol=0)


def test_preserve_color_keeps_content_colours(small_extractor):
    def run(preserve):
        return StyleTransfer(
            small_extractor, steps=25, preserve_color=preserve, progress=False
        ).run(CONTENT, STYLE)

    plain, luminance, histogram = run(None), run("luminance"), run("histogram")
    mean_c, _ = colour_stats(CONTENT)
    error = {
        name: (colour_stats(img)[0] - mean_c).abs().max().item()
        for name, img in [("plain", plain), ("luminance", luminance), ("histogram", histogram)]
    }
    # Without preservation the cold style pulls the colours away from the warm content.
    assert error["plain"] > 0.05, error
    assert error["luminance"] < 0.5 * error["plain"], error
    assert error["histogram"] < 0.5 * error["plain"], error
    # Luminance-only transfer: the chroma is the content's, pixel for pixel
    # (up to clipping at the RGB cube's faces).
    chroma_out = rgb_to_ycbcr(luminance)[:, 1:]
    chroma_in = rgb_to_ycbcr(CONTENT)[:, 1:]
    assert (chroma_out - chroma_in).abs().mean().item() < 0.01
