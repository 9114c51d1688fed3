"""Item 8: images whose declared or requested size is enormous are refused with a message."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from gst_core.cli import main
from gst_core.images import ImageReadError, load_image
from gst_core.kinds import datasets


def _bomb(path, width: int = 100_000, height: int = 100_000):
    """A valid small PNG whose header declares width × height pixels."""
    Image.new("RGB", (4, 4), "red").save(path)
    data = bytearray(path.read_bytes())
    # IHDR: 8-byte signature, length (4), type (4), width, height, ...; CRC over type + data.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def _photo(path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    return path


def test_a_decompression_bomb_is_an_error_naming_the_file(tmp_path):
    bomb = _bomb(tmp_path / "bomb.png")
    with pytest.raises(ImageReadError, match="bomb.png': it declares a size beyond Pillow's limit"):
        load_image(bomb, 64)


def test_a_bomb_in_a_folder_dataset_is_skipped_and_counted(tmp_path):
    for i in range(3):
        _photo(tmp_path / f"ok{i}.png")
    _bomb(tmp_path / "bomb.png")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\) of 4"):
        data = datasets.build("folder", root=str(tmp_path), image_size=8)
    assert len(data) == 3 and [p.name for p in data.skipped] == ["bomb.png"]


def test_an_enormous_size_is_refused_before_resizing(tmp_path, capsys):
    photo, style = _photo(tmp_path / "photo.png"), _photo(tmp_path / "style.png")
    out = tmp_path / "out.png"
    assert main(["stylize", str(photo), str(style), "-o", str(out), "--size", "100000"]) == 2
    assert "would be 100000×75000 pixels, more than Pillow's limit" in capsys.readouterr().err
    assert main(["stylize", "--demo", "-o", str(out), "--size", "100000"]) == 2
    assert "would be 100000×100000 pixels" in capsys.readouterr().err
