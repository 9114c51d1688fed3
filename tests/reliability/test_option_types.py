"""Item 9: options of the wrong type or range, from TOML or flags, give a message, not a
traceback, and are caught before any work."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gst_core.cli import main

from .helpers import write_config

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("seed = 0", 'seed = "s"', "seed must be an integer, got 's' (str)"),
        ("ema_decay = 0.9", 'ema_decay = "a"', "ema_decay must be a number, got 'a' (str)"),
        (
            "sample_count = 4",
            "sample_count = -1",
            "sample_count must be a positive integer, got -1",
        ),
        ("progress = false", 'progress = "no"', "progress must be true or false, got 'no'"),
        (
            "[train]",
            "[train.optimizer]\nbetas = [0.5]\n[train]",
            "betas must be two numbers in [0, 1), e.g. [0.5, 0.999]; got [0.5]",
        ),
        ("image_size = 8\nnum_classes", 'image_size = "8"\nnum_classes', "dataset 'shapes'"),
    ],
)
def test_train_config_values_of_the_wrong_type(tmp_path, capsys, old, new, message):
    config = write_config(tmp_path, **{old: new})
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run)]) == 2
    assert message in capsys.readouterr().err
    assert not run.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--device", "bogus"], "'bogus' is not a device; use auto, cpu, cuda, cuda:N or mps"),
        pytest.param(["--device", "cuda"], "torch sees no CUDA GPU", marks=NO_GPU),
        (["--threads", "0"], "--threads must be at least 1, got 0"),
    ],
)
def test_train_flags_of_the_wrong_value(tmp_path, capsys, argv, message):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not run.exists()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    config = write_config(folder)
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(folder / "run")]) == 0
    return folder / "run"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--nrow", "-2"], "--nrow must be at least 1, got -2"),
        pytest.param(
            ["--device", "cuda"], "torch sees no CUDA GPU; use --device cpu", marks=NO_GPU
        ),
        (["--device", "bogus"], "'bogus' is not a device"),
    ],
)
def test_sample_flags_of_the_wrong_value(run, tmp_path, capsys, argv, message):
    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "-o", str(grid), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "corrupt" not in err
    assert not grid.exists()


def test_bench_sizes_must_be_positive(capsys):
    assert main(["bench", "kernels", "--device", "cpu", "--sizes", "0"]) == 2
    assert "--sizes must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "line, message",
    [
        ("content = 5", "content must be a string, got 5 (int)"),
        ('content = "photo.png"\nstyles = [1]', "styles must be a list of file names, got [1]"),
        (
            'content = "photo.png"\nstyles = "style.png"',
            'styles must be a list of file names, e.g. styles = ["style.png"]',
        ),
        ('demo = "no"', "demo must be true or false, got 'no' (str)"),
        ('content = "photo.png"\nstyles = ["style.png"]\ndevice = "bogus"', "is not a device"),
    ],
)
def test_stylize_toml_values_of_the_wrong_type(tmp_path, monkeypatch, capsys, line, message):
    monkeypatch.chdir(tmp_path)
    for name in ("photo.png", "style.png"):
        Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(name)
    (tmp_path / "s.toml").write_text(f"[stylize]\n{line}\nsize = 32\nsteps = 1\n")
    assert main(["stylize", "--config", "s.toml", "--quiet", "-o", "out.png"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()
