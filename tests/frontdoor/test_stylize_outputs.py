"""`gst stylize` outputs (issue 20 items 7 and 8): folders and one-file output for --model,
--save-every snapshots with --preserve-color."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gst_core.cli import main
from tests.faststyle.conftest import tiny_checkpoint  # noqa: F401  (a fixture)


def _write(path, w, h, seed=0, grey=False):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (h, w, 1 if grey else 3), dtype=np.uint8)
    Image.fromarray(pixels.repeat(3, axis=2) if grey else pixels).save(path)
    return path


def test_model_takes_a_folder_like_translate(tiny_checkpoint, tmp_path):  # noqa: F811
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    _write(photos / "a.png", 20, 16)
    _write(photos / "sub" / "b.jpg", 24, 24, seed=1)
    out = tmp_path / "out"
    assert main(["stylize", "--model", str(tiny_checkpoint), str(photos), "-o", str(out)]) == 0
    assert Image.open(out / "a.png").size == (20, 16)
    assert Image.open(out / "sub" / "b.png").size == (24, 24)


def test_model_one_input_and_a_file_name_writes_that_file(tiny_checkpoint, tmp_path):  # noqa: F811
    photo = _write(tmp_path / "photo.png", 20, 16)
    one = tmp_path / "one.png"
    assert main(["stylize", "--model", str(tiny_checkpoint), str(photo), "-o", str(one)]) == 0
    assert one.is_file() and Image.open(one).size == (20, 16)
    # and it is never replaced silently
    assert main(["stylize", "--model", str(tiny_checkpoint), str(photo), "-o", str(one)]) == 2


def test_several_inputs_and_a_file_name_is_refused(tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    a, b = _write(tmp_path / "a.png", 20, 16), _write(tmp_path / "b.png", 20, 16, seed=1)
    one = tmp_path / "one.png"
    assert main(["stylize", "--model", str(tiny_checkpoint), str(a), str(b), "-o", str(one)]) == 2
    assert "names one image, but the inputs are 2" in capsys.readouterr().err
    assert not one.exists()  # no folder named one.png


def test_a_run_folder_among_the_inputs_is_refused(tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    # `--model runs/fast_style-* photo.jpg` with two runs: the second is not an image folder.
    photo = _write(tmp_path / "photo.png", 20, 16)
    run_folder = tiny_checkpoint.parent.parent
    args = ["stylize", "--model", str(tiny_checkpoint), str(run_folder), str(photo)]
    assert main([*args, "-o", str(tmp_path / "out")]) == 2
    assert "is a gst run or model folder, not a folder of images" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_save_every_snapshots_keep_the_content_colours(tmp_path):
    content = _write(tmp_path / "grey.png", 32, 32, grey=True)
    style = _write(tmp_path / "colour.png", 32, 32, seed=3)
    out = tmp_path / "out.png"
    args = ["stylize", str(content), str(style), "-o", str(out), "--size", "32", "--steps", "4"]
    flags = ["--save-every", "2", "--preserve-color", "luminance", "--tol", "0", "--quiet"]
    assert main([*args, *flags, "--extractor", "random_multiscale"]) == 0
    for image in (out, tmp_path / "out_00002.png", tmp_path / "out_00004.png"):
        rgb = np.asarray(Image.open(image), dtype=np.int16)
        # a grey content keeps a grey result: its channels agree to within rounding
        assert np.abs(rgb[..., 0] - rgb[..., 1]).max() <= 2, image.name
        assert np.abs(rgb[..., 1] - rgb[..., 2]).max() <= 2, image.name
