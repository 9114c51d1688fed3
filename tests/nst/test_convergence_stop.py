"""Gatys early stop: the loss's convergence test, and a run whose loss provably flattens."""

from __future__ import annotations

import pytest
import torch
from nst_helpers import smooth_image, stripes_image

from gst_core.pipelines.style_transfer import Convergence, StyleTransfer

IMAGE = torch.zeros(1)


def _stop_step(losses, tolerance, window):
    check = Convergence(tolerance, window)
    for i, loss in enumerate(losses, 1):
        if check.update(loss, IMAGE):
            return i
    return None


def test_stops_when_the_window_improves_less_than_the_tolerance():
    # 100, 50, 25, ... halves (improving), then flat at 1.0 from the 8th value on.
    losses = [100 / 2**i for i in range(7)] + [1.0] * 10
    # Window 3: at value 11 the best of values 9-11 (1.0) improves on the best before them
    # (value 8, 1.0) by 0 <= 1e-3; at value 10 it still improves on value 7 (1.5625).
    assert _stop_step(losses, 1e-3, 3) == 11
    assert _stop_step(losses, 0.0, 3) is None  # tolerance 0: never stop


def test_relative_improvement_just_above_the_tolerance_keeps_going():
    # Each value 0.2% below the last: over a window of 1 that beats a 0.1% tolerance.
    losses = [100 * 0.998**i for i in range(50)]
    assert _stop_step(losses, 1e-3, 1) is None
    assert _stop_step(losses, 3e-3, 1) == 2


def test_best_image_is_kept():
    check = Convergence(1e-3, 2)
    for loss, value in [(3.0, 0), (1.0, 1), (2.0, 2)]:
        check.update(loss, torch.full((1,), float(value)))
    assert check.best_image.item() == 1


@pytest.mark.parametrize("tolerance,evaluations", [(1e-3, 6), (0.0, 40)])
def test_a_flat_loss_stops_after_one_window(small_extractor, tolerance, evaluations):
    # Content-only loss from the content image itself: the loss is 0 at every step and the
    # gradient is 0, so Adam never moves; the run stops after window + 1 evaluations.
    transfer = StyleTransfer(
        small_extractor,
        steps=40,
        optimizer="adam",
        style_weight=0.0,
        tv_weight=0.0,
        tolerance=tolerance,
        window=5,
        progress=False,
    )
    content = smooth_image(24, 24, 0)
    out = transfer.run(content, [stripes_image(24, 24, 1)])
    assert transfer.evaluations == evaluations
    torch.testing.assert_close(out, content)
