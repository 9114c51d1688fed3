"""`gst plugins show NAME` and `gst stylize --strip` (issue 20, "Also")."""

from __future__ import annotations

import inspect

import numpy as np
from PIL import Image

from gst_core.cli import main
from gst_core.kinds import registry


def test_show_prints_signature_defaults_docstring_and_distribution(capsys):
    assert main(["plugins", "show", "hinge"]) == 0
    out = capsys.readouterr().out
    factory = registry("loss").get("hinge")
    assert f"hinge{inspect.signature(factory)}" in out
    assert "gst-toolkit" in out and "loss hinge" in out
    assert inspect.getdoc(factory).splitlines()[0] in out


def test_show_lists_every_kind_with_the_name_and_an_objectives_flags(capsys):
    assert main(["plugins", "show", "dcgan"]) == 0
    out = capsys.readouterr().out
    assert "generator dcgan" in out and "discriminator dcgan" in out
    assert "latent_dim: 'int' = 100" in out  # a default, from the signature
    assert main(["plugins", "show", "fast_style", "--kind", "objective"]) == 0
    assert "--style-weight" in capsys.readouterr().out


def test_show_of_an_unknown_name_suggests_close_ones(capsys):
    assert main(["plugins", "show", "hinje"]) == 2
    assert "did you mean 'hinge'" in capsys.readouterr().err


def test_stylize_strip_puts_content_style_and_output_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(tmp_path / "c.png")
    Image.fromarray(np.full((40, 40, 3), 200, dtype=np.uint8)).save(tmp_path / "s.png")
    out, strip = tmp_path / "out.png", tmp_path / "strip.png"
    args = ["stylize", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(out)]
    flags = ["--size", "48", "--steps", "2", "--quiet", "--strip", str(strip)]
    assert main([*args, *flags, "--extractor", "random_multiscale"]) == 0
    pixels = np.asarray(Image.open(strip))
    result = np.asarray(Image.open(out))
    assert pixels.shape == (32, 48 + 4 + 32 + 4 + 48, 3)  # content | style (square) | output
    np.testing.assert_array_equal(pixels[:, -48:], result)  # the output, unchanged
    np.testing.assert_array_equal(pixels[:, :48], np.asarray(Image.open(tmp_path / "c.png")))
    assert (pixels[:, 52:84] == 200).all()  # the flat style, scaled to the height
    assert main([*args, *flags, "--overwrite", "--strip", str(out)]) == 2  # not the output
