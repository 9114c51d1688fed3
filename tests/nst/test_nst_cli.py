"""`gst stylize`: images in every Pillow mode, bad files, TOML, the demo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gst_core.cli import main
from gst_core.images import ImageReadError, load_image

FAST = ["--size", "32", "--steps", "2", "--quiet", "--extractor", "random_multiscale"]


def write_modes(tmp_path):
    """The same picture as grayscale, RGBA, 16-bit and palette files."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8), "RGB")
    paths = {
        "L": rgb.convert("L"),
        "RGBA": rgb.convert("RGBA"),
        "P": rgb.convert("P"),
    }
    sixteen = Image.new("I;16", rgb.size)
    sixteen.frombytes((np.asarray(rgb.convert("L"), np.uint16) * 257).astype("<u2").tobytes())
    paths["I;16"] = sixteen
    out = {}
    for mode, image in paths.items():
        path = tmp_path / f"{mode.replace(';', '')}.png"
        image.save(path)
        out[mode] = path
    return out


def test_every_pillow_mode_is_converted_and_stylized(tmp_path):
    files = write_modes(tmp_path)
    for mode, path in files.items():
        image = load_image(path, 32)
        assert image.shape == (1, 3, 24, 32), mode
        assert 0 <= image.min() and image.max() <= 1
    sixteen = load_image(files["I;16"])
    eight = load_image(files["L"])
    assert (sixteen - eight).abs().max() < 2 / 255  # 16-bit is scaled, not clipped
    out = tmp_path / "out.png"
    code = main(
        ["stylize", str(files["I;16"]), str(files["P"]), str(files["RGBA"]), "-o", str(out), *FAST]
    )
    assert code == 0
    with Image.open(out) as written:
        assert written.size == (32, 24) and written.mode == "RGB"


def test_missing_and_corrupt_files_exit_2_with_the_reason(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ImageReadError):
        load_image(corrupt)
    out = str(tmp_path / "o.png")
    assert main(["stylize", str(tmp_path / "none.jpg"), str(corrupt), "-o", out, *FAST]) == 2
    assert "does not exist" in capsys.readouterr().err
    style = tmp_path / "s.png"
    Image.new("RGB", (20, 20), "blue").save(style)
    assert main(["stylize", str(style), str(corrupt), "-o", out, *FAST]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_missing_style_and_bad_layer_are_explained(tmp_path, capsys):
    content = tmp_path / "c.png"
    Image.new("RGB", (20, 20), "red").save(content)
    assert main(["stylize", str(content), "-o", str(tmp_path / "o.png"), *FAST]) == 2
    assert "give at least one style image" in capsys.readouterr().err
    code = main(
        [
            "stylize",
            str(content),
            str(content),
            "-o",
            str(tmp_path / "o.png"),
            "--style-layers",
            "relu1_1",
            *FAST,
        ]
    )
    assert code == 2
    assert "has no layer(s) relu1_1" in capsys.readouterr().err


def test_toml_config_with_flags_overriding(tmp_path):
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    Image.new("RGB", (40, 30), "red").save(content)
    Image.effect_noise((24, 24), 60).convert("RGB").save(style)
    config = tmp_path / "run.toml"
    config.write_text(f"""
[feature_extractor]
name = "random_multiscale"
channels = 16
num_scales = 3

[loss.content]
name = "content"
layers = ["scale2"]

[loss.style]
name = "style"
layers = ["scale1", "scale2", "scale3"]
layer_weights = [1.0, 0.5, 0.25]

[stylize]
content = "{content.as_posix()}"
styles = ["{style.as_posix()}"]
output = "{(tmp_path / "from_toml.png").as_posix()}"
size = 40
steps = 2
tv_weight = 1.0
""")
    assert main(["stylize", "--config", str(config), "--quiet"]) == 0
    with Image.open(tmp_path / "from_toml.png") as written:
        assert written.size == (40, 30)
    assert main(["stylize", "--config", str(config), "--quiet", "--size", "24"]) == 0
    with Image.open(tmp_path / "from_toml.png") as written:
        assert written.size == (24, 18)  # the flag wins over [stylize] size


def test_unknown_stylize_key_in_toml(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[stylize]\nstep = 3\n")
    assert main(["stylize", "--config", str(config)]) == 2
    assert "unknown key(s) step" in capsys.readouterr().err


def test_demo_runs_offline_and_writes_intermediates(tmp_path, capsys):
    out = tmp_path / "demo.png"
    code = main(
        [
            "stylize",
            "--demo",
            "-o",
            str(out),
            "--size",
            "48",
            "--steps",
            "4",
            "--save-every",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    assert "no VGG weights configured" in capsys.readouterr().err
    with Image.open(out) as written:
        assert written.size == (48, 36)
    assert (tmp_path / "demo_00004.png").exists()


def test_style_layer_weights_apply_to_the_default_layers(tmp_path):
    out = tmp_path / "w.png"
    code = main(
        [
            "stylize",
            "--demo",
            "-o",
            str(out),
            "--size",
            "48",
            "--steps",
            "2",
            "--quiet",
            "--style-layer-weights",
            "1,1,1,1,2",
            "--preserve-color",
            "histogram",
        ]
    )
    assert code == 0 and out.exists()


def test_non_finite_loss_writes_the_last_good_image_and_exits_2(tmp_path, monkeypatch, capsys):
    import torch

    from gst_core.cli import stylize as stylize_cli
    from gst_core.errors import NonFiniteLossError

    def explode(self, content, styles, **_):
        raise NonFiniteLossError(
            "the loss became nan at step 4", image=torch.zeros(1, 3, 36, 48), step=3
        )

    monkeypatch.setattr(stylize_cli.StyleTransfer, "run", explode)
    out = tmp_path / "nan.png"
    assert main(["stylize", "--demo", "-o", str(out), "--size", "48", "--quiet"]) == 2
    assert "last good image is in" in capsys.readouterr().err
    with Image.open(out) as written:
        assert written.size == (48, 36)


@pytest.mark.parametrize("where", ["flag", "toml"])
def test_size_zero_is_rejected_not_taken_as_unset(tmp_path, capsys, where):
    # The content does not exist: before the size check worked, --size 0 fell back to
    # the default size and the run failed later on the missing file instead.
    missing = str(tmp_path / "none.png")
    args = ["stylize", missing, missing, "-o", str(tmp_path / "o.png"), "--quiet"]
    if where == "flag":
        args += ["--size", "0"]
    else:
        config = tmp_path / "run.toml"
        config.write_text("[stylize]\nsize = 0\n")
        args += ["--config", str(config)]
    assert main(args) == 2
    assert "--size must be an integer of at least 16 pixels, got 0" in capsys.readouterr().err


def test_empty_output_name_is_rejected(tmp_path, capsys):
    missing = str(tmp_path / "none.png")
    assert main(["stylize", missing, missing, "-o", "", *FAST]) == 2
    assert "--output must be a file name" in capsys.readouterr().err
