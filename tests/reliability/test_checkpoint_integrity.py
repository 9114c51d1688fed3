"""Item 2: bytes damaged after a checkpoint was written are found when it is read."""

from __future__ import annotations

import zipfile

import pytest
import torch

from gst_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from .helpers import FIXTURES


def _data_offset(path, member: str) -> int:
    """Where the bytes of zip record ``member`` start in the file."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len = int.from_bytes(f.read(2), "little")
        extra_len = int.from_bytes(f.read(2), "little")
    return info.header_offset + 30 + name_len + extra_len


def test_a_few_flipped_bytes_inside_a_tensor_are_refused(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint({"networks": {"g": {"w": torch.arange(4096, dtype=torch.float32)}}}, path)
    with zipfile.ZipFile(path) as archive:
        member = next(n for n in archive.namelist() if "/data/" in n)
    data = bytearray(path.read_bytes())
    start = _data_offset(path, member) + 1000
    for i in range(3):  # still finite float32 values: only the checksum can tell
        data[start + 4 * i] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"is damaged: its record .*data/0.* does not match"):
        load_checkpoint(path)


def test_a_checkpoint_written_by_gst_0_1_passes_the_check():
    assert load_checkpoint(FIXTURES / "gan_v0_1_step3.pt")["step"] == 3
