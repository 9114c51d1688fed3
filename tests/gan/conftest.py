"""Fixtures for the GAN tests: tiny networks, tiny data."""

from __future__ import annotations

import pytest
import torch

from gst_plugins.datasets.shapes import ProceduralShapes


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread; on a busy 2-core machine two threads spin-wait
    on each other (the GAN tests took 313 s that way instead of about 20 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def shapes16():
    return ProceduralShapes(image_size=16, num_classes=4, per_class=32)
