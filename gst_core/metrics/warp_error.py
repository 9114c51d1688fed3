"""Warping error: how much a video flickers, measured along the motion of its input.

For consecutive frames ``t`` and ``t + 1``, optical flow is computed on the
*reference* frames (the input video, not the stylised output, whose flicker
would fool the flow) by a classical method, OpenCV's DIS (no weights to
download). Output frame ``t`` is warped by that flow onto frame ``t + 1``;
pixels that are occluded (forward-backward flow inconsistent, Ruder et al.
2016) or that come from outside the frame are masked out. The error is the
mean over the remaining pixels of ``‖O_{t+1} − warp(O_t)‖²`` (RGB on 0..1,
summed over channels; Lai et al. 2018), averaged over the pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from gst_core.metrics.errors import MetricError

__all__ = ["backward_flow", "occlusion_mask", "require_cv2", "warp", "warping_error"]


def require_cv2():
    """The ``cv2`` module, or a one-line error naming the extra to install."""
    try:
        import cv2
    except ImportError as exc:
        raise MetricError(
            "the warping error needs OpenCV: pip install 'gst-toolkit[video]'"
        ) from exc
    return cv2


def _gray(frame: np.ndarray) -> np.ndarray:
    cv2 = require_cv2()
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def backward_flow(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Flow ``(H, W, 2)`` (x, y) such that ``later(p) ≈ earlier(p + flow(p))`` (DIS, medium)."""
    cv2 = require_cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_gray(later), _gray(earlier), None)


def warp(frame: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` sampled at ``p + flow(p)`` (bilinear) and where that lies inside the frame."""
    cv2 = require_cv2()
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    warped = cv2.remap(
        np.ascontiguousarray(frame), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    return warped, inside


def occlusion_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Pixels whose backward flow is undone by the forward flow where it lands (not occluded):
    ``|b + f(p + b)|² < 0.01 (|b|² + |f(p + b)|²) + 0.5`` (Ruder et al. 2016)."""
    forward_there, inside = warp(forward, backward)
    total = backward + forward_there
    limit = 0.01 * ((backward**2).sum(-1) + (forward_there**2).sum(-1)) + 0.5
    return inside & ((total**2).sum(-1) < limit)


def warping_error(
    frames: Iterable[np.ndarray],
    reference: Iterable[np.ndarray] | None = None,
    *,
    flows: Iterable[np.ndarray] | None = None,
) -> dict[str, float]:
    """Mean warping error of uint8 RGB ``frames`` (streamed: two frames held at a time).

    Flow from ``reference`` (the input frames; default: ``frames`` themselves), or the
    given backward ``flows`` (one per pair; every in-frame pixel counts then).
    """
    pairs: list[float] = []
    masked: list[float] = []
    frame_iter = iter(frames)
    ref_iter: Iterator[np.ndarray] | None = iter(reference) if reference is not None else None
    flow_iter = iter(flows) if flows is not None else None
    previous = next(frame_iter, None)
    previous_ref = next(ref_iter, None) if ref_iter is not None else previous
    for current in frame_iter:
        current_ref = next(ref_iter, None) if ref_iter is not None else current
        if current_ref is None:
            raise MetricError("the reference video has fewer frames than the output")
        if current.shape != previous.shape or current_ref.shape[:2] != current.shape[:2]:
            raise MetricError(
                f"frame sizes differ ({previous.shape}, {current.shape}, reference "
                f"{current_ref.shape}); the reference must be the output's input video"
            )
        if flow_iter is not None:
            flow = next(flow_iter)
            warped, valid = warp(previous, flow)
        else:
            flow = backward_flow(previous_ref, current_ref)
            warped, inside = warp(previous, flow)
            valid = inside & occlusion_mask(flow, backward_flow(current_ref, previous_ref))
        diff = (current.astype(np.float64) - warped.astype(np.float64)) / 255
        if valid.any():
            pairs.append(float((diff**2).sum(-1)[valid].mean()))
        masked.append(float(1 - valid.mean()))
        previous, previous_ref = current, current_ref
    if not pairs:
        raise MetricError("the warping error needs at least two frames with visible motion")
    return {
        "warping_error": float(np.mean(pairs)),
        "pairs": len(pairs),
        "masked_fraction": float(np.mean(masked)),
    }
