"""Fixtures for the GAN tests: tiny networks, tiny data."""

from __future__ import annotations

import pytest

from gst_plugins.datasets.shapes import ProceduralShapes


@pytest.fixture(scope="session")
def shapes16():
    return ProceduralShapes(image_size=16, num_classes=4, per_class=32)
