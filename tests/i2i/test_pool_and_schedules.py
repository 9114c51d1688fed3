"""The image history pool and the learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch

from gst_core.errors import TrainingSetupError
from gst_core.training.schedules import lr_factor, schedule_factor
from gst_plugins.objectives.image_pool import ImagePool


def images(start: int, n: int = 1) -> torch.Tensor:
    """Images whose every pixel is their own id, so a returned image says where it came from."""
    return torch.arange(start, start + n, dtype=torch.float).view(n, 1, 1, 1).expand(n, 1, 2, 2)


def ids(batch: torch.Tensor) -> list[int]:
    return [int(v) for v in batch[:, 0, 0, 0]]


def test_size_zero_passes_through():
    pool = ImagePool(0)
    batch = images(0, 4)
    assert torch.equal(pool.query(batch), batch) and len(pool) == 0


def test_the_first_n_pass_then_about_half_come_from_history():
    pool = ImagePool(5, seed=0)
    assert ids(pool.query(images(0, 3))) == [0, 1, 2]
    assert ids(pool.query(images(3, 3))) == [3, 4, 5]  # the pool fills at 5; item 5 draws
    seen: set[int] = set(range(6))
    old = 0
    for step in range(6, 406):
        (got,) = ids(pool.query(images(step)))
        assert got == step or got in seen  # a returned old image is one put in before
        old += got != step
        seen.add(step)
    assert 160 <= old <= 240  # Binomial(400, ½): mean 200, sd 10
    assert len(pool) == 5


def test_the_pool_is_seeded_and_resumes_exactly():
    a, b = ImagePool(3, seed=7), ImagePool(3, seed=7)
    for i in range(10):
        assert torch.equal(a.query(images(i, 2)), b.query(images(i, 2)))
    c = ImagePool(3, seed=123)
    c.load_state_dict(a.state_dict())
    for i in range(10, 30):
        assert torch.equal(a.query(images(i, 2)), c.query(images(i, 2)))
    with pytest.raises(TrainingSetupError, match="pool_size"):
        ImagePool(4).load_state_dict(a.state_dict())
    with pytest.raises(TrainingSetupError, match="pool_size"):
        ImagePool(-1)


def test_schedule_values_at_the_boundaries():
    assert [lr_factor(None, 10, s) for s in (0, 9)] == [1.0, 1.0]
    linear = {"name": "linear", "decay_steps": 4}  # constant for 6 steps, then 4 to zero
    assert [lr_factor(linear, 10, s) for s in (0, 6, 7, 9, 10)] == [1.0, 1.0, 0.75, 0.25, 0.0]
    assert lr_factor("linear", 10, 5) == 1.0 and lr_factor("linear", 10, 6) == 0.8  # half
    step = {"name": "step", "step_size": 3, "gamma": 0.5}
    assert [lr_factor(step, 10, s) for s in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    cosine = {"name": "cosine", "min_factor": 0.1}
    assert lr_factor(cosine, 10, 0) == 1.0
    assert math.isclose(lr_factor(cosine, 10, 5), 0.55)
    assert math.isclose(lr_factor(cosine, 10, 10), 0.1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "exponential"}, "unknown lr_schedule"),
        ({"name": "linear", "decay": 3}, "no option decay"),
        ({"name": "linear", "decay_steps": 0}, "positive integer"),
        ({"decay_steps": 3}, "a name or a table"),
    ],
)
def test_bad_schedules_are_named(spec, message):
    with pytest.raises(TrainingSetupError, match=message):
        schedule_factor(spec, 10)
