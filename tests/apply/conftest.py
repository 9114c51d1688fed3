"""Fixtures for the apply tests: a tiny CycleGAN run, and clips panning across a real photo."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cyclegan_run(tmp_path_factory):
    """A run folder with a one-step CycleGAN (instance-norm ResNet generators)."""
    from gst_core.training.build import build_trainer

    run = tmp_path_factory.mktemp("cyclegan") / "run"
    config = {
        "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "data": {"name": "unpaired_shapes", "image_size": 16, "count": 4},
        "train": {
            "steps": 1,
            "batch_size": 2,
            "progress": False,
            "sample_every": 0,
            "checkpoint_every": 0,
            "run_dir": str(run),
        },
    }
    build_trainer(config, "cyclegan").fit()
    return run


def panning_frames(count: int, size=(64, 96), step: int = 3) -> np.ndarray:
    """``count`` crops of scikit-image's astronaut, each ``step`` pixels right of the last:
    the true flow between neighbours is exactly ``(step, 0)``."""
    data = pytest.importorskip("skimage.data")
    photo = data.astronaut()
    h, w = size
    return np.stack([photo[100 : 100 + h, 50 + k * step : 50 + k * step + w] for k in range(count)])


def make_clip(path, frames: np.ndarray, rate: int = 12, audio: bool = True):
    """Encode ``frames`` (uint8 ``(N, H, W, 3)``) as H.264 at ``rate`` fps, with a 440 Hz
    AAC tone as long as the video when ``audio``."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if audio:
            sound = out.add_stream("aac", rate=16000)
            sound.layout = "mono"
        for k, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = k
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio:
            n = 16000 * len(frames) // rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)
            for i in range(0, n, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, i : i + 1024], "fltp", "mono")
                chunk.sample_rate, chunk.pts = 16000, i
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path
