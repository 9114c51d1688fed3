"""Issue 19 items 4, 5, 10 and 13 (odd-width AB images) for the folder datasets."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from gst_core.errors import DataError
from gst_core.kinds import datasets
from gst_plugins.objectives._feedforward import load_style_images


def _image(path, size=(16, 16), colour=(200, 0, 0)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _bomb(path):
    """A small valid PNG whose header declares 100 000² pixels."""
    _image(path, (4, 4))
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 100_000, 100_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def _pairs(root, names=("0", "1", "2")):
    for n in names:
        _image(root / "A" / f"{n}.png")
        _image(root / "B" / f"{n}.png", colour=(0, 0, 200))


def test_a_named_split_that_does_not_exist_is_an_error_listing_the_splits(tmp_path):
    _pairs(tmp_path / "train")
    _pairs(tmp_path / "test")
    with pytest.raises(DataError, match=r"no tran/ folder .*the splits there are test, train"):
        datasets.build({"name": "paired", "root": str(tmp_path), "split": "tran", "image_size": 8})
    # Left out: train/ (never the whole root, which would mix in test/).
    data = datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})
    assert data.root == tmp_path / "train" and len(data) == 3
    flat = tmp_path / "flat"
    _pairs(flat)
    assert len(datasets.build({"name": "paired", "root": str(flat), "image_size": 8})) == 3
    with pytest.raises(DataError, match="no train/ folder .*no split folders"):
        datasets.build({"name": "paired", "root": str(flat), "split": "train", "image_size": 8})
    _image(tmp_path / "u" / "testA" / "a.png")
    _image(tmp_path / "u" / "testB" / "b.png")
    with pytest.raises(DataError, match="no trainA/ folder.*the splits there are test"):
        datasets.build({"name": "unpaired", "root": str(tmp_path / "u"), "image_size": 8})


def test_two_files_of_one_name_in_a_domain_are_an_error_naming_both(tmp_path):
    _pairs(tmp_path)
    _image(tmp_path / "A" / "1.jpg")
    with pytest.raises(DataError, match=r"1\.png and 1\.jpg|1\.jpg and 1\.png"):
        datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})


@pytest.mark.parametrize("cache", [True, False])
def test_a_bomb_in_paired_and_unpaired_folders_is_skipped_and_counted(tmp_path, cache):
    _pairs(tmp_path / "p")
    _bomb(tmp_path / "p" / "B" / "1.png")
    spec = {"name": "paired", "root": str(tmp_path / "p"), "image_size": 8, "cache": cache}
    if cache:
        with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\) of 6.*1\.png"):
            data = datasets.build(spec)
        assert len(data) == 2 and [p.name for p in data.skipped] == ["1.png"]
    else:
        data = datasets.build(spec)  # listed, not decoded: met when read
        assert len(data[1]["A"]) == 3 and [p.name for p in data.skipped] == ["1.png"]
    for name in ("a.png", "b.png"):
        _image(tmp_path / "u" / "trainA" / name)
        _image(tmp_path / "u" / "trainB" / name)
    _bomb(tmp_path / "u" / "trainA" / "c.png")
    spec = {"name": "unpaired", "root": str(tmp_path / "u"), "image_size": 8, "cache": True}
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = datasets.build(spec)
    assert len(data) == 2 and "bomb" in data.describe_unreadable(data.skipped)


def test_a_95_megapixel_image_is_refused_with_gsts_message_not_decoded(tmp_path, monkeypatch):
    # Between Pillow's limit and twice it Pillow only warns and decodes it all; scaled down here.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30 * 30)
    _pairs(tmp_path)
    _image(tmp_path / "B" / "2.png", (40, 40))  # 1 600 px: between the limit and twice it
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image\(s\) of 6.*2\.png"):
        data = datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})
    assert "decompression bomb" in data.describe_unreadable(data.skipped)


def test_an_odd_width_side_by_side_image_is_reported(tmp_path):
    _image(tmp_path / "x.png", (33, 16))
    _image(tmp_path / "y.png", (32, 16))
    with pytest.warns(UserWarning, match=r"x\.png' is 33 px wide, an odd width: its last column"):
        data = datasets.build({"name": "paired", "root": str(tmp_path), "image_size": 8})
    assert len(data) == 2


def test_a_damaged_file_in_a_style_folder_is_skipped_and_counted(tmp_path):
    _image(tmp_path / "s" / "a.png", (32, 32))
    _image(tmp_path / "s" / "d.png", (32, 32))
    (tmp_path / "s" / "b.png").write_bytes(b"damaged")
    _bomb(tmp_path / "s" / "c.png")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable image\(s\) of 4 .*b\.png"):
        styles = load_style_images(str(tmp_path / "s"), 16)
    assert len(styles) == 2
    # More than max_unreadable (half) of them: a message naming them, as for [data] folders.
    (tmp_path / "s" / "a.png").write_bytes(b"damaged too")
    with (
        pytest.raises(DataError, match=r"3 of 4 .* a\.png, b\.png, c\.png"),
        pytest.warns(UserWarning, match="skipped 3"),
    ):
        load_style_images(str(tmp_path / "s"), 16)
