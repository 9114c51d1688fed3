"""Atomic writes: all or nothing, with the permissions a plain open() would give."""

from __future__ import annotations

import os
import stat

import pytest

from gst_core.atomic_file import atomic_write


def test_new_file_gets_umask_permissions_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a" / "out.bin") as f:
            f.write(b"hello")
    finally:
        os.umask(old)
    target = tmp_path / "a" / "out.bin"
    assert target.read_bytes() == b"hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "last.pt"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_saved_images_are_readable_by_others(tmp_path):
    import torch

    from gst_core.images import save_image

    old = os.umask(0o022)
    try:
        path = save_image(torch.zeros(3, 4, 4), tmp_path / "grid.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
