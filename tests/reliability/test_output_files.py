"""Items 4 and 5: inputs are never overwritten, outputs are checked before the work starts,
and a failed write says so and keeps the previous file."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from PIL import Image

import gst_core.atomic_file
from gst_core.cli import main

from .helpers import write_config

FAST = ["--size", "32", "--steps", "1", "--quiet", "--extractor", "random_multiscale"]


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name in ("photo.png", "style.png"):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(tmp_path / name)
        paths.append(tmp_path / name)
    return paths


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the optimisation starts: every check must come before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the optimisation started before the output was checked")

    monkeypatch.setattr("gst_core.cli.stylize.StyleTransfer.run", refuse)


# -- item 4: lost or clobbered files -------------------------------------------


def test_the_input_photo_is_never_the_output(photos, capsys, no_work):
    photo, style = photos
    before = photo.read_bytes()
    for extra in ([], ["--overwrite"]):
        assert main(["stylize", str(photo), str(style), "-o", str(photo), *FAST, *extra]) == 2
        assert "is also an input; gst never overwrites an input" in capsys.readouterr().err
    assert photo.read_bytes() == before


def test_an_existing_output_needs_overwrite_and_keeps_its_permissions(photos, tmp_path, capsys):
    photo, style = photos
    out = tmp_path / "out.png"
    out.write_bytes(b"an older result")
    out.chmod(0o640)
    assert main(["stylize", str(photo), str(style), "-o", str(out), *FAST]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"an older result"
    assert main(["stylize", str(photo), str(style), "-o", str(out), *FAST, "--overwrite"]) == 0
    assert Image.open(out).size == (32, 24)
    assert out.stat().st_mode & 0o777 == 0o640


def test_a_symlinked_output_is_written_through(photos, tmp_path):
    photo, style = photos
    real = tmp_path / "real.png"
    real.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(real)
    assert main(["stylize", str(photo), str(style), "-o", str(link), *FAST, "--overwrite"]) == 0
    assert link.is_symlink() and Image.open(real).size == (32, 24)


# -- item 5: checked before the work, write errors as messages -------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("folder", "is a folder; give a file name inside it"),
        ("out.psd", "'.psd' is not an image format Pillow writes"),
        ("out.xyz", "'.xyz' is not an image format Pillow writes"),
        ("a_file/out.png", "is a file, not a folder"),
    ],
)
def test_bad_stylize_outputs_are_refused_before_the_optimisation(
    photos, tmp_path, capsys, no_work, name, message
):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    photo, style = photos
    assert main(["stylize", str(photo), str(style), "-o", str(tmp_path / name), *FAST]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "run"
    args = ["train", "gan", "-c", str(write_config(tmp_path)), "--run-dir", str(folder)]
    assert main([*args, "--steps", "1"]) == 0
    return folder


def test_sample_checks_its_output_before_loading_the_checkpoint(tmp_path, capsys):
    missing = tmp_path / "no-such-run"
    assert main(["sample", str(missing), "-o", str(tmp_path / "grid.psd")]) == 2
    assert "'.psd' is not an image format Pillow writes" in capsys.readouterr().err


def test_a_run_folder_or_checkpoints_folder_that_is_a_file_is_refused_before_training(
    tmp_path, capsys
):
    config = str(write_config(tmp_path))
    (tmp_path / "taken").write_text("a file")
    assert main(["train", "gan", "-c", config, "--run-dir", str(tmp_path / "taken")]) == 2
    assert "the run folder" in capsys.readouterr().err
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoints").write_text("a file")
    assert main(["train", "gan", "-c", config, "--run-dir", str(run), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "the checkpoints folder" in err and "is a file, not a folder" in err
    assert not (run / "metrics.jsonl").exists()


def _disk_full(monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(gst_core.atomic_file.os, "replace", full)


def test_a_full_disk_while_sampling_is_a_message_and_the_old_grid_stays(
    run, tmp_path, capsys, monkeypatch
):
    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "-n", "4", "-o", str(grid)]) == 0
    before = grid.read_bytes()
    _disk_full(monkeypatch)
    assert main(["sample", str(run), "-n", "9", "-o", str(grid), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device; the previous file is intact" in err
    assert grid.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_full_disk_at_a_checkpoint_is_a_message_and_the_old_checkpoint_stays(
    run, capsys, monkeypatch
):
    last = run / "checkpoints" / "last.pt"
    before = last.read_bytes()
    _disk_full(monkeypatch)
    assert main(["train", "gan", "--resume", str(run), "--steps", "2"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert last.read_bytes() == before
