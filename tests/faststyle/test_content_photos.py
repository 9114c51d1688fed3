"""content_photos: the built-in offline content set."""

from __future__ import annotations

import sys

import pytest
import torch

from gst_core.errors import DataError
from gst_core.kinds import datasets


def test_images_are_deterministic_rgb_in_range():
    a = datasets.build("content_photos", image_size=16, count=6, photo_fraction=0.5, seed=3)
    b = datasets.build("content_photos", image_size=16, count=6, photo_fraction=0.5, seed=3)
    c = datasets.build("content_photos", image_size=16, count=6, photo_fraction=0.5, seed=4)
    assert len(a) == 6 and a.image_shape == (3, 16, 16)
    image, label = a[0]
    assert label == -1 and -1 <= image.min() and image.max() <= 1
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)


def test_without_scikit_learn_every_image_is_drawn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    data = datasets.build("content_photos", image_size=16, count=5, photo_fraction=1.0)
    assert len(data) == 5
    assert data.images.float().std() > 10  # drawn scenes, not blank


@pytest.mark.parametrize("kwargs", [{"image_size": 8}, {"count": 0}, {"photo_fraction": 2.0}])
def test_bad_options_are_messages(kwargs):
    with pytest.raises(DataError, match="content_photos"):
        datasets.build("content_photos", **kwargs)
