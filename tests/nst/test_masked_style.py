"""Spatial control for Gatys (`--mask`): masked Gram matrices, one style per region."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nst_helpers import smooth_image, stripes_image
from PIL import Image

from gst_core.cli import main
from gst_core.kinds import losses
from gst_core.pipelines import StyleTransfer, StyleTransferError
from gst_core.pipelines.masked_style import MaskedStyleLoss, check_masks, masked_gram

FAST = ["--size", "32", "--steps", "2", "--quiet", "--extractor", "random_multiscale"]


def reference_masked_gram(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Gatys et al. 2017's masked Gram, written out in float64 loops over the channels."""
    f = features[0].double()
    m = mask[0, 0].double()
    c = f.shape[0]
    out = torch.empty(c, c, dtype=torch.float64)
    for i in range(c):
        for j in range(c):
            out[i, j] = (f[i] * m * f[j] * m).sum()
    return out / (c * m.sum())


def test_masked_gram_matches_a_float64_reference():
    g = torch.Generator().manual_seed(0)
    features = torch.randn(1, 5, 7, 9, generator=g)
    mask = torch.rand(1, 1, 7, 9, generator=g)
    got = masked_gram(features, mask)[0]
    assert got.dtype == torch.float32
    torch.testing.assert_close(
        got.double(), reference_masked_gram(features, mask), rtol=1e-5, atol=1e-6
    )
    assert masked_gram(features.double(), mask).dtype == torch.float64


def test_an_all_ones_mask_is_the_plain_gram_and_style_loss():
    from gst_kernels import gram

    g = torch.Generator().manual_seed(1)
    features = torch.randn(1, 6, 8, 10, generator=g)
    ones = torch.ones(1, 1, 8, 10)
    torch.testing.assert_close(masked_gram(features, ones), gram(features, backend="torch"))
    plain = losses.build("style", layers=["a"])
    target = torch.rand(6, 6, generator=g)
    masked = MaskedStyleLoss(plain, torch.ones(1, 1, 16, 20))  # resized to the 8×10 features
    torch.testing.assert_close(
        masked.layer_term("a", features, target[None]), plain.layer_term("a", features, target)
    )


def test_regions_use_their_own_target():
    """Two regions: the term is the sum of each region's masked Gram against its style's."""
    g = torch.Generator().manual_seed(2)
    features = torch.randn(1, 4, 6, 8, generator=g)
    left = torch.zeros(1, 1, 6, 8)
    left[..., :4] = 1
    masks = torch.cat([left, 1 - left])
    targets = torch.rand(2, 4, 4, generator=g)
    loss = MaskedStyleLoss(losses.build("style", layers=["a"]), masks)
    expected = sum(
        ((reference_masked_gram(features, masks[k : k + 1]) - targets[k].double()) ** 2).mean()
        for k in range(2)
    )
    torch.testing.assert_close(loss.layer_term("a", features, targets).double(), expected)


def _halves(h: int, w: int) -> list[torch.Tensor]:
    left = torch.zeros(1, 1, h, w)
    left[..., : w // 2] = 1
    return [left, 1 - left]


def _mean_rgb(image: torch.Tensor) -> torch.Tensor:
    return image.mean(dim=(0, 2, 3))


def test_each_half_moves_toward_its_own_styles_colours(small_extractor):
    """An independent check (pixel colour means, not Grams): left half red, right half blue."""
    h, w = 32, 64
    content = 0.4 + 0.2 * smooth_image(h, w, seed=3)
    texture = stripes_image(32, 32, seed=4)
    red = texture * torch.tensor([1.0, 0.15, 0.15]).view(1, 3, 1, 1)
    blue = texture * torch.tensor([0.15, 0.15, 1.0]).view(1, 3, 1, 1)
    transfer = StyleTransfer(
        small_extractor, steps=40, progress=False, tolerance=0.0, style_weight=1e4
    )
    out = transfer.run(content, [red, blue], masks=_halves(h, w))
    halves = {"left": (slice(None), slice(0, w // 2)), "right": (slice(None), slice(w // 2, w))}
    styles = {"left": _mean_rgb(red), "right": _mean_rgb(blue)}
    for name, (rows, cols) in halves.items():
        before = _mean_rgb(content[..., rows, cols])
        after = _mean_rgb(out[..., rows, cols])
        own = styles[name]
        other = styles["right" if name == "left" else "left"]
        assert (after - own).norm() < 0.7 * (before - own).norm(), name
        assert (after - own).norm() < (after - other).norm(), name
    # Red minus blue: positive on the left, negative on the right.
    left, right = (_mean_rgb(out[..., r, c]) for r, c in halves.values())
    assert left[0] - left[2] > 0.1 and right[2] - right[0] > 0.1


def test_mask_checks_are_clear():
    content_size = (32, 64)
    ok = _halves(*content_size)
    with pytest.raises(StyleTransferError, match="1 mask\\(s\\) for 2 style"):
        check_masks(ok[:1], 2, content_size)
    with pytest.raises(StyleTransferError, match="aspect ratio"):
        check_masks([torch.ones(1, 1, 32, 32), ok[1]], 2, content_size)
    with pytest.raises(StyleTransferError, match="black everywhere"):
        check_masks([torch.zeros(1, 1, 32, 64), ok[1]], 2, content_size)
    with pytest.raises(StyleTransferError, match="outside \\[0, 1\\]"):
        check_masks([ok[0] * 255, ok[1]], 2, content_size)
    with pytest.raises(StyleTransferError, match="tensor"):
        check_masks(["a.png", ok[1]], 2, content_size)
    # Grey, RGB and half-size masks are all accepted and resized to the content.
    grey = check_masks([ok[0][0, 0], ok[1].expand(1, 3, -1, -1)[..., ::2, ::2]], 2, content_size)
    assert grey.shape == (2, 1, 32, 64)


def test_masks_and_blend_weights_are_exclusive(small_extractor):
    transfer = StyleTransfer(small_extractor, steps=1, progress=False, style_blend_weights=[1, 1])
    content = smooth_image(32, 32, seed=0)
    with pytest.raises(StyleTransferError, match="one or the other"):
        transfer.run(content, [content, content], masks=_halves(32, 32))


def _save(tensor: torch.Tensor, path) -> str:
    array = (tensor[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(path)
    return str(path)


def _files(tmp_path):
    content = _save(smooth_image(32, 48, seed=0), tmp_path / "content.png")
    a = _save(stripes_image(32, 32, seed=1), tmp_path / "a.png")
    b = _save(smooth_image(32, 32, seed=2), tmp_path / "b.png")
    left, right = _halves(32, 48)
    return content, a, b, _save(left, tmp_path / "ma.png"), _save(right, tmp_path / "mb.png")


def test_cli_two_masks_run(tmp_path):
    content, a, b, ma, mb = _files(tmp_path)
    out = tmp_path / "out.png"
    code = main(["stylize", content, a, b, "--mask", ma, "--mask", mb, "-o", str(out), *FAST])
    assert code == 0 and Image.open(out).size == (32, 21)


def test_cli_mask_errors_exit_2_with_the_reason(tmp_path, capsys):
    content, a, b, ma, mb = _files(tmp_path)
    out = str(tmp_path / "out.png")
    assert main(["stylize", content, a, b, "--mask", ma, "-o", out, *FAST]) == 2
    assert "1 --mask for 2 style image(s)" in capsys.readouterr().err
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert main(["stylize", content, a, b, "--mask", ma, "--mask", str(text), "-o", out,
                 *FAST]) == 2  # fmt: skip
    assert "notes.png" in capsys.readouterr().err
    assert main(["stylize", content, a, "--mask", str(tmp_path / "none.png"), "-o", out,
                 *FAST]) == 2  # fmt: skip
    assert "none.png" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()
