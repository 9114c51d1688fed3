"""The warping error on clips panning across a real photo, where the true flow is known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gst_core.cli import main
from gst_core.metrics.warp_error import warp, warping_error

from .conftest import make_clip, panning_frames

pytest.importorskip("cv2")

STEP, DELTA = 3, 20  # pixels of pan per frame; flicker in 0..255


def _flickering(frames: np.ndarray) -> np.ndarray:
    """``frames`` with every odd frame DELTA brighter (values kept below 255 - DELTA first)."""
    out = np.minimum(frames, 255 - DELTA).astype(np.int16)
    out[1::2] += DELTA
    return out.astype(np.uint8)


def test_warp_by_a_whole_pixel_shift_is_exact():
    frames = panning_frames(2, step=STEP)
    flow = np.zeros((*frames.shape[1:3], 2), np.float32)
    flow[..., 0] = STEP
    warped, inside = warp(frames[0], flow)
    # later(p) = earlier(p + (STEP, 0)) wherever p + STEP is inside the frame.
    assert inside[:, :-STEP].all() and not inside[:, -STEP + 1 :].any()
    np.testing.assert_array_equal(warped[:, :-STEP], frames[1][:, :-STEP])


def test_warping_error_of_a_known_flicker_along_the_true_flow_is_exact():
    reference = panning_frames(6, step=STEP)
    output = _flickering(reference)
    flow = np.zeros((*reference.shape[1:3], 2), np.float32)
    flow[..., 0] = STEP
    result = warping_error(output, flows=[flow] * 5)
    # Between each pair every pixel differs by DELTA in all 3 channels: 3·(DELTA/255)².
    assert result["warping_error"] == pytest.approx(3 * (DELTA / 255) ** 2, rel=1e-9)
    assert result["pairs"] == 5 and result["masked_fraction"] == pytest.approx(STEP / 96)


def test_warping_error_with_flow_estimated_on_the_input():
    reference = panning_frames(6, step=STEP)
    steady = warping_error(reference, reference)
    assert steady["warping_error"] < 2e-3  # DIS finds the pan: almost nothing left
    assert 0.02 <= steady["masked_fraction"] < 0.2  # the columns that enter the frame
    flicker = warping_error(_flickering(reference), reference)
    assert flicker["warping_error"] == pytest.approx(3 * (DELTA / 255) ** 2, rel=0.15)


def test_gst_eval_warp(tmp_path, capsys):
    reference = panning_frames(6, step=STEP)
    clip = make_clip(tmp_path / "in.mp4", reference, audio=False)
    out = make_clip(tmp_path / "out.mp4", _flickering(reference), audio=False)
    argv = ["eval", "warp", str(out), "--reference", str(clip), "--json", str(tmp_path / "w.json")]
    assert main(argv) == 0
    assert "warping error" in capsys.readouterr().out
    saved = json.loads((tmp_path / "w.json").read_text())
    assert saved["pairs"] == 5 and saved["warping_error"] == pytest.approx(
        3 * (DELTA / 255) ** 2, rel=0.3
    )  # (after H.264's loss)
    assert main(["eval", "warp", str(tmp_path / "none.mp4")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
