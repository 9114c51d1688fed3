"""JPEGs bound for a smaller size are decoded at a reduced DCT scale (Pillow's draft)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from skimage import data as photos

from gst_core.images import open_image
from gst_plugins.datasets.image_folder import FolderConvert


def _jpeg(path, size=(256, 192), orientation=None):
    image = Image.fromarray(photos.astronaut()).resize(size, Image.Resampling.LANCZOS)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, quality=92, exif=exif)
    return path


def test_the_draft_keeps_at_least_the_size_asked_for(tmp_path):
    path = _jpeg(tmp_path / "a.jpg")
    assert open_image(path).size == (256, 192)
    assert open_image(path, (64, 48)).size == (64, 48)  # 1/4 scale fits exactly
    assert open_image(path, (65, 48)).size == (128, 96)  # 1/4 would be too small
    png = tmp_path / "a.png"
    Image.open(path).save(png)
    assert open_image(png, (64, 48)).size == (256, 192)  # not a JPEG: decoded in full


def test_a_turned_jpeg_is_drafted_on_its_stored_axes(tmp_path):
    # Stored 256×192 with orientation 6 (turned a quarter): shown 192×256.
    path = _jpeg(tmp_path / "t.jpg", orientation=6)
    assert open_image(path).size == (192, 256)
    assert open_image(path, (48, 64)).size == (48, 64)
    assert open_image(path, (64, 64)).size == (96, 128)  # both shown sides stay >= 64


def test_the_folder_conversion_from_a_draft_matches_the_full_decode(tmp_path):
    path = _jpeg(tmp_path / "a.jpg", (512, 512))
    convert = FolderConvert(64, 3)
    assert convert.draft == (128, 128)
    (full,) = convert([open_image(path)], [path])
    (drafted,) = convert([open_image(path, convert.draft)], [path])
    diff = (full.double() - drafted.double()).abs()
    psnr = 10 * np.log10(255**2 / diff.pow(2).mean().item())
    assert psnr > 40 and diff.max() <= 16
    assert not torch.equal(full, drafted)  # it did decode differently
