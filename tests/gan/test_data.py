"""Datasets: the user's folders (with and without classes, bad files), shapes, digits."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from gst_core.errors import ComponentArgumentError, DataError, UnknownComponentError
from gst_core.training import build_dataset
from gst_plugins.datasets.image_folder import ImageFolder
from gst_plugins.datasets.shapes import ProceduralShapes


def _png(path, colour, size=(20, 12), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


def test_empty_and_missing_folders_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no images found"):
        ImageFolder(tmp_path)
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="no images found"):
        ImageFolder(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        ImageFolder(tmp_path / "nope")


def test_unlabelled_folder_any_size_and_mode_skips_unreadable(tmp_path):
    _png(tmp_path / "a.png", (255, 0, 0))
    _png(tmp_path / "b.jpg", 128, size=(7, 30), mode="L")
    _png(tmp_path / "c.png", (0, 0, 255, 0), mode="RGBA")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="skipped 2 unreadable image"):
        data = ImageFolder(tmp_path, image_size=16)
    assert len(data) == 3 and data.num_classes == 0
    assert sorted(p.name for p in data.skipped) == ["broken.png", "empty.jpg"]
    image, label = data[0]
    assert image.shape == (3, 16, 16) and label == -1
    assert image[0].mean() == pytest.approx(1.0) and image[1].mean() == pytest.approx(-1.0)


def test_all_unreadable_is_an_error(tmp_path):
    (tmp_path / "x.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image"), pytest.warns(UserWarning):
        ImageFolder(tmp_path)


def test_class_subfolders_become_labels(tmp_path):
    for i in range(3):
        _png(tmp_path / "cats" / f"{i}.png", (200, 0, 0))
    _png(tmp_path / "dogs" / "deep" / "d.png", (0, 200, 0))
    (tmp_path / "empty_class").mkdir()
    data = ImageFolder(tmp_path, image_size=8, channels=1)
    assert data.classes == ["cats", "dogs"] and data.num_classes == 2
    images, labels = data.get_batch([0, 3])
    assert images.shape == (2, 1, 8, 8) and labels.tolist() == [0, 1]


def test_shapes_are_deterministic_and_labelled():
    a = ProceduralShapes(image_size=16, num_classes=3, per_class=4, seed=1)
    b = ProceduralShapes(image_size=16, num_classes=3, per_class=4, seed=1)
    assert torch.equal(a.images, b.images) and a.classes == [
        "red_circle",
        "green_square",
        "blue_triangle",
    ]
    images, labels = a.get_batch(range(12))
    assert images.min() >= -1 and images.max() <= 1 and labels.bincount().tolist() == [4, 4, 4]
    # classes differ in colour: the mean colour of each class is far from the others'
    means = torch.stack([images[labels == k].mean((0, 2, 3)) for k in range(3)])
    assert torch.cdist(means, means).add(torch.eye(3) * 9).min() > 0.1


def test_build_dataset_errors():
    with pytest.raises(
        UnknownComponentError, match=r"\[data\]: unknown dataset 'shape'; did you mean 'shapes'"
    ):
        build_dataset({"name": "shape"})
    with pytest.raises(
        ComponentArgumentError, match=r"cannot be built with \{'colour': 'red'\}.*image_size"
    ):
        build_dataset({"name": "shapes", "colour": "red"})
    with pytest.raises(DataError, match=r"\[data\]: shapes: num_classes must lie in 1..10"):
        build_dataset({"name": "shapes", "num_classes": 11})
    with pytest.raises(Exception, match='add name = "shapes"'):
        build_dataset({"image_size": 8})


def test_digits_when_scikit_learn_is_installed():
    pytest.importorskip("sklearn")
    data = build_dataset({"name": "digits", "image_size": 16})
    assert len(data) == 1797 and data.num_classes == 10 and data[0][0].shape == (1, 16, 16)
