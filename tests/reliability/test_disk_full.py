"""Issue 19, item 6: a full disk during a checkpoint write is a FileWriteError, and the
previous checkpoint is intact (torch's own error was an inline_container.cc traceback)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest
import torch

from gst_core.atomic_file import FileWriteError
from gst_core.checkpoint import load_checkpoint, save_checkpoint
from gst_core.cli import main

from .helpers import write_config


class _FullDisk:
    """A file whose writes fail after ``room`` bytes, as on a full disk."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def test_a_write_error_inside_torch_save_is_a_file_write_error(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"step": 1, "w": torch.ones(4)}, path)
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        "gst_core.atomic_file.os.fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k), 600)
    )
    with pytest.raises(
        FileWriteError, match="No space left on device; the previous file is intact"
    ):
        save_checkpoint({"step": 2, "w": torch.zeros(100_000)}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs (needs root and mount rights; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_run_whose_disk_fills_up_stops_with_the_previous_checkpoint(
    small_tmpfs, tmp_path, capsys
):
    # Wide enough that torch writes its records past Python's buffer, where the full disk
    # used to surface as torch's "enforce fail at inline_container.cc".
    config = write_config(tmp_path, **{"width = 4\n[disc": "width = 48\n[disc"})
    run = small_tmpfs / "run"
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(run), "--steps", "3"]) == 0
    size = (run / "checkpoints" / "last.pt").stat().st_size
    free = shutil.disk_usage(small_tmpfs).free
    # Room for config.json and metrics lines (4 KiB pages), and half a checkpoint.
    assert size > 64 * 1024, size
    (small_tmpfs / "filler").write_bytes(b"\0" * (free - size // 2 - 16 * 1024))
    capsys.readouterr()
    assert main(["train", "gan", "--resume", str(run), "--steps", "6"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "the previous file is intact" in err
    assert "inline_container" not in err and "Traceback" not in err
    assert "last.pt" in err
    assert load_checkpoint(run)["step"] == 3
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]
