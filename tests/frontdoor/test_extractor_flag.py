"""`gst stylize --extractor/--weights` override a TOML's [feature_extractor] (issue 20 item 11)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.cli import main


@pytest.fixture(autouse=True)
def _no_weights(monkeypatch, tmp_path):
    for name in ("GST_VGG_WEIGHTS", "GST_VGG19_WEIGHTS", "GST_VGG16_WEIGHTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def _images(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(tmp_path / name)
    return str(tmp_path / "c.png"), str(tmp_path / "s.png")


def test_extractor_flag_wins_over_a_toml_weights_path(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(
        '[feature_extractor]\nname = "vgg19"\nweights = "/elsewhere/vgg19.pth"\n'
        "[stylize]\nsteps = 2\nsize = 24\n"
    )
    content, style = _images(tmp_path)
    out = tmp_path / "out.png"
    args = ["stylize", content, style, "-o", str(out), "--config", str(config), "--quiet"]
    assert main(args) == 2  # the TOML alone: its weights file is missing
    assert "/elsewhere/vgg19.pth" in capsys.readouterr().err
    assert main([*args, "--extractor", "random_multiscale"]) == 0
    assert out.is_file()


def test_weights_flag_keeps_the_tomls_network(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[feature_extractor]\nname = "vgg16"\nweights = "/elsewhere/a.pth"\n')
    content, style = _images(tmp_path)
    missing = str(tmp_path / "mine.pth")
    args = ["stylize", content, style, "-o", str(tmp_path / "o.png"), "--config", str(config)]
    assert main([*args, "--weights", missing, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "mine.pth" in err and "/elsewhere" not in err
