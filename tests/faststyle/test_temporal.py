"""The compound temporal regularisation (Wang et al. 2020): its warp against a hand-written
bilinear sampler, its loss on networks that do and do not commute with motion, and training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gst_plugins._shared.temporal import (
    compound_temporal_loss,
    inside_frame,
    random_smooth_flow,
    warp_images,
)

from .conftest import TINY_ARGS


def _sources(flow: np.ndarray):
    """Each pixel ``(y, x)`` with its source ``p + flow(p)``, clamped to the frame."""
    h, w, _ = flow.shape
    for y in range(h):
        for x in range(w):
            sx = min(max(x + flow[y, x, 0], 0), w - 1)
            yield y, x, sx, min(max(y + flow[y, x, 1], 0), h - 1)


def _bilinear_reference(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per pixel, in float64: ``image`` at ``p + flow(p)``, coordinates clamped to the frame."""
    c, h, w = image.shape
    out = np.zeros_like(image)
    for y, x, sx, sy in _sources(flow):
        x0, y0 = math.floor(sx), math.floor(sy)
        x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
        fx, fy = sx - x0, sy - y0
        out[:, y, x] = (
            image[:, y0, x0] * (1 - fx) * (1 - fy)
            + image[:, y0, x1] * fx * (1 - fy)
            + image[:, y1, x0] * (1 - fx) * fy
            + image[:, y1, x1] * fx * fy
        )
    return out


def test_warp_matches_a_hand_written_bilinear_sampler():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 7, 9, dtype=torch.float64)
    flow = random_smooth_flow(1, 7, 9, max_shift=3.0).double()
    expected = _bilinear_reference(image[0].numpy(), flow[0].numpy())
    np.testing.assert_allclose(warp_images(image, flow)[0].numpy(), expected, atol=1e-10)
    # A whole-pixel shift moves the picture: later(p) = earlier(p + 2).
    shift = torch.zeros(1, 7, 9, 2, dtype=torch.float64)
    shift[..., 0] = 2
    torch.testing.assert_close(warp_images(image, shift)[..., :-2], image[..., 2:])


def test_random_flows_are_bounded_and_smooth():
    torch.manual_seed(0)
    flow = random_smooth_flow(8, 64, 64, max_shift=8.0)
    assert flow.shape == (8, 64, 64, 2)
    assert flow.abs().max() <= 8.0 * 1.1  # bicubic overshoots a little
    assert (flow[:, 1:] - flow[:, :-1]).abs().max() < 1.0  # smooth: < 1 px change per pixel
    assert flow.std() > 0.5


class _AddPattern(nn.Module):
    """Adds a fixed pattern: does not move with the picture (the flicker the loss punishes)."""

    def __init__(self) -> None:
        super().__init__()
        self.pattern = nn.Parameter(torch.randn(1, 3, 16, 16))

    def forward(self, x):
        return x + self.pattern


def test_the_loss_is_zero_for_a_network_that_commutes_with_motion_only():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    identity = nn.Identity()
    assert compound_temporal_loss(identity, images, images, noise=0.0) < 1e-10
    noisy = compound_temporal_loss(identity, images, images, noise=0.1)
    assert noisy.item() == pytest.approx(0.01, rel=0.2)  # the noise's variance
    pattern = _AddPattern()
    loss = compound_temporal_loss(pattern, images, pattern(images), noise=0.0)
    assert loss > 0.1
    loss.backward()
    assert pattern.pattern.grad.abs().sum() > 0


def test_pixels_moved_in_from_outside_the_frame_are_left_out(monkeypatch):
    """A 2-pixel shift left: the last two columns have no source. The loss is the mean over
    the other columns only, written out with slicing (no flow, no mask)."""
    import gst_plugins._shared.temporal as temporal

    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 9, dtype=torch.float64) * 2 - 1
    net = nn.Conv2d(3, 3, 3, padding=1, dtype=torch.float64)  # zero padding: edges differ
    shift = torch.zeros(2, 8, 9, 2, dtype=torch.float64)
    shift[..., 0] = 2
    assert inside_frame(shift)[:, 0, :, :7].eq(1).all() and inside_frame(shift)[..., 7:].eq(0).all()
    with torch.no_grad():
        # later(p) = earlier(p + 2): the moved frame's first 7 columns are columns 2..8.
        moved = torch.cat([images[..., 2:], images[..., -1:].expand(-1, -1, -1, 2)], dim=-1)
        expected = ((net(moved)[..., :7] - net(images)[..., 2:]) ** 2).mean()
        monkeypatch.setattr(temporal, "random_smooth_flow", lambda *a, **k: shift)
        got = compound_temporal_loss(net, images, net(images), noise=0.0)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)  # the term is float32
    # All pixels counted would include the border columns, which only repeat the edge.
    with torch.no_grad():
        everything = ((net(moved) - warp_images(net(images), shift)) ** 2).mean()
    assert not np.isclose(everything.item(), expected.item())


def test_fast_style_trains_with_the_temporal_term(tmp_path):
    from gst_core.cli import main

    run = tmp_path / "run"
    argv = ["train", "fast_style", "--steps", "2", "--run-dir", str(run), *TINY_ARGS]
    assert main([*argv, "--set", "objective.temporal_weight=10.0"]) == 0
    logged = "\n".join(p.read_text() for p in run.rglob("*.jsonl"))
    assert "loss_temporal" in logged
    assert (
        main(
            [
                "train",
                "fast_style",
                "--steps",
                "1",
                "--run-dir",
                str(tmp_path / "r2"),
                *TINY_ARGS,
                "--set",
                "objective.temporal_weight=-1",
            ]
        )
        == 2
    )


class _CountingConv(nn.Conv2d):
    """A convolution that records the batch size of every call."""

    def __init__(self) -> None:
        super().__init__(3, 3, 3, padding=1, dtype=torch.float64)
        self.batches: list[int] = []

    def forward(self, x):
        self.batches.append(len(x))
        return super().forward(x)


def test_part_of_the_batch_is_the_reference_formula_on_those_items():
    from gst_plugins._shared.temporal import TemporalTerm

    torch.manual_seed(0)
    images = torch.rand(4, 3, 12, 10, dtype=torch.float64) * 2 - 1
    net = _CountingConv()
    outputs = net(images)
    term = TemporalTerm(weight=1.0, shift=3.0, noise=0.1, samples=2)
    got = term.loss(net, images, outputs, torch.Generator().manual_seed(5))
    assert net.batches == [4, 2]  # only the covered items go through the network again
    # The formula written out on items 0 and 1, drawing as the docstring says: the flow
    # (shift, then the lattice), then the noise, from the same seed.
    rng = torch.Generator().manual_seed(5)
    shift = (torch.rand(2, 2, 1, 1, generator=rng) * 2 - 1) * 1.5
    field = (torch.rand(2, 2, 4, 4, generator=rng) * 2 - 1) * 1.5
    smooth = nn.functional.interpolate(field, size=(12, 10), mode="bicubic", align_corners=True)
    flow = (shift + smooth).permute(0, 2, 3, 1).double()
    delta = torch.randn(2, 3, 12, 10, generator=rng).double()
    x = images[:2]
    moved = torch.from_numpy(np.stack([_bilinear_reference(i, f) for i, f in
                                       zip(x.numpy(), flow.numpy(), strict=True)]))  # fmt: skip
    warped_out = np.stack([_bilinear_reference(o, f) for o, f in
                           zip(outputs[:2].detach().numpy(), flow.numpy(), strict=True)])  # fmt: skip
    # Pixels whose source p + flow(p) is outside the 12 x 10 frame are left out.
    ys, xs = np.mgrid[0:12, 0:10]
    sx, sy = xs + flow[..., 0].numpy(), ys + flow[..., 1].numpy()
    inside = ((sx >= 0) & (sx <= 9) & (sy >= 0) & (sy <= 11))[:, None]
    assert 0 < inside.mean() < 1  # the test's flows do move pixels in from outside
    with torch.no_grad():
        squared = (net(moved + 0.1 * delta).numpy() - warped_out) ** 2
    expected = (squared * inside).sum() / (inside.sum() * 3)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # As many samples as the batch, or more, is the whole batch: the same as 0 (the default).
    whole = TemporalTerm(weight=1.0, shift=3.0, noise=0.1)
    for samples in (4, 9):
        a = TemporalTerm(weight=1.0, shift=3.0, noise=0.1, samples=samples).loss(
            net, images, outputs, torch.Generator().manual_seed(5)
        )
        b = whole.loss(net, images, outputs, torch.Generator().manual_seed(5))
        assert torch.equal(a, b)
    assert not torch.isclose(got, b)  # part of the batch is not the whole batch's mean


def test_temporal_samples_and_start_must_be_whole_numbers():
    from gst_core.errors import TrainingSetupError
    from gst_plugins._shared.temporal import TemporalTerm

    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(TrainingSetupError, match="temporal_samples must be an integer >= 0"):
            TemporalTerm.checked("fast_style", 1.0, samples=bad)
        with pytest.raises(TrainingSetupError, match="temporal_start must be an integer >= 0"):
            TemporalTerm.checked("fast_style", 1.0, start=bad)
    assert TemporalTerm.checked("fast_style", 1.0, samples=2).samples == 2
    term = TemporalTerm.checked("fast_style", 1.0, start=3)
    assert [term.active(s) for s in range(5)] == [False, False, False, True, True]
    assert not TemporalTerm.checked("fast_style", 0.0).active(10)


def _nearest_reference(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per pixel: ``image`` at the pixel nearest ``p + flow(p)``, clamped to the frame."""
    out = np.zeros_like(image)
    for y, x, sx, sy in _sources(flow):
        out[:, y, x] = image[:, round(sy), round(sx)]
    return out


def test_nearest_warp_moves_whole_pixels_as_a_hand_written_sampler_does():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 7, 9, dtype=torch.float64)
    flow = random_smooth_flow(1, 7, 9, max_shift=3.0).double()
    assert (flow.frac().abs() - 0.5).abs().min() > 1e-6  # no ties for the rounding to split
    expected = _nearest_reference(image[0].numpy(), flow[0].numpy())
    np.testing.assert_array_equal(warp_images(image, flow, "nearest")[0].numpy(), expected)


def test_a_pointwise_network_commutes_with_a_nearest_warp_but_not_a_bilinear_one():
    # tanh(2x) per pixel commutes with any permutation of pixels, so with a nearest warp;
    # a bilinear warp averages before or after the tanh, and the two differ: the term would
    # pull such a network towards a softer (more linear) output.
    torch.manual_seed(0)
    images = torch.rand(2, 3, 16, 16, dtype=torch.float64) * 2 - 1

    def pointwise(x):
        return torch.tanh(2 * x)

    def term(warp):
        rng = torch.Generator().manual_seed(3)
        return compound_temporal_loss(
            pointwise, images, pointwise(images), max_shift=4.0, noise=0.0, rng=rng, warp=warp
        )

    assert term("nearest").item() == 0.0
    assert term("bilinear").item() > 1e-4


def test_temporal_warp_must_be_a_known_mode():
    from gst_core.errors import TrainingSetupError
    from gst_plugins._shared.temporal import TemporalTerm

    with pytest.raises(TrainingSetupError, match="temporal_warp must be one of bilinear, nearest"):
        TemporalTerm.checked("fast_style", 1.0, warp="bicubic")
    term = TemporalTerm.checked("fast_style", 1.0, warp="nearest")
    assert term.options()["temporal_warp"] == "nearest"
    assert "temporal_warp" not in TemporalTerm.checked("fast_style", 1.0).options()
