"""Issue 19, item 9: a GAN on image-to-image data, and a resume with another objective, are
refused with what to run instead (were KeyError 'image' and internals such as pool_size)."""

from __future__ import annotations

import tomllib

import pytest

from gst_core.cli import main

from .helpers import write_config


def _toml(value) -> str:
    import json

    return json.dumps(value)


def _write(path, config: dict) -> str:
    lines = []
    for section, table in config.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n")
    tomllib.loads(path.read_text())
    return str(path)


@pytest.mark.parametrize("data", ["paired_shapes", "unpaired_shapes"])
def test_a_gan_on_image_to_image_data_names_pix2pix_and_cyclegan(tmp_path, capsys, data):
    config = write_config(
        tmp_path,
        **{
            'name = "shapes"\nimage_size = 8\nnum_classes = 2\nper_class = 8': (
                f'name = "{data}"\nimage_size = 8\ncount = 4'
            )
        },
    )
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "pix2pix" in err and "cyclegan" in err and "KeyError" not in err


def _cyclegan_run(tmp_path):
    from tests.i2i.conftest import tiny_config

    run = tmp_path / "cycle"
    config = _write(tmp_path / "cycle.toml", tiny_config("cyclegan", steps=1, run_dir=run))
    assert main(["train", "cyclegan", "-c", config]) == 0
    return run


@pytest.mark.parametrize("other", ["gan", "pix2pix", "fast_style"])
def test_resuming_a_cyclegan_run_with_another_objective_names_cyclegan(tmp_path, capsys, other):
    run = _cyclegan_run(tmp_path)
    capsys.readouterr()
    assert main(["train", other, "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "saved by the 'cyclegan' objective" in err
    assert f"gst train cyclegan --resume {run}" in err


def test_resuming_a_gan_run_with_cyclegan_names_gan(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "gan"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "1"]) == 0
    capsys.readouterr()
    assert main(["train", "cyclegan", "--resume", str(run)]) == 2
    assert "saved by the 'gan' objective" in capsys.readouterr().err
