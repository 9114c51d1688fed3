"""Video files through the apply path: frames, rate, size and audio kept; streamed in batches;
clear errors; inputs never overwritten. Clips pan across a real photo (see conftest)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch import nn

from gst_core.apply.tiling import Tiling, apply_tiled
from gst_core.apply.video import VideoError, apply_to_video, require_av
from gst_core.cli import main
from gst_core.kinds import generators

from .conftest import make_clip, panning_frames

av = pytest.importorskip("av")


def _read(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = [(a.codec_context.name, a.sample_rate, a.channels) for a in container.streams.audio]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video)])
        rate = video.average_rate
    with av.open(str(path)) as container:
        samples = sum(f.samples for f in container.decode(audio=0)) if audio else 0
    return frames, rate, audio, samples


class CountingNet(nn.Module):
    """A transformer_net that records the largest batch it was given."""

    input_kind = "image"
    size_multiple = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = generators.build({"name": "transformer_net", "channels": 4}).eval()
        self.batches: list[int] = []

    def forward(self, x):
        self.batches.append(x.shape[0])
        return self.net(x)


def test_video_keeps_frames_rate_size_and_audio_and_streams_in_batches(tmp_path):
    frames = panning_frames(11)
    clip = make_clip(tmp_path / "clip.mp4", frames, rate=12)
    source, rate, audio, samples = _read(clip)
    net = CountingNet()
    out = apply_to_video(net, clip, tmp_path / "out.mp4", batch=3, progress=False)
    result, out_rate, out_audio, out_samples = _read(out)
    assert result.shape == source.shape == (11, 64, 96, 3)
    assert out_rate == rate == 12
    assert out_audio == audio == [("aac", 16000, 1)] and out_samples == samples > 0
    # Streamed: at most `batch` frames at a time, whatever the clip's length (3+3+3+2;
    # before them, the one-image probe that measures the memory a pass needs).
    assert net.batches == [1, 3, 3, 3, 2]
    # Each frame is the network's output for that frame (in order), up to the encoder's loss.
    expected = apply_tiled(net, source, Tiling(tile=0)).astype(np.float64)
    error = np.abs(result[:, None] - expected[None]).mean(axis=(2, 3, 4)) / 255
    assert (error.argmin(axis=1) == np.arange(11)).all()
    # (yuv420p halves the chroma resolution: a seeded network's pixel-level colour noise
    # loses ~0.05; the next frame's output is twice as far.)
    nearest = np.sort(error, axis=1)
    assert error.diagonal().max() < 0.07 and (nearest[:, 0] < 0.6 * nearest[:, 1]).all()
    assert np.abs(result - source).mean() / 255 > 0.05  # and not the input passed through
    assert not list(tmp_path.glob(".*partial*"))


def test_video_errors_are_clear_and_inputs_are_never_overwritten(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "clip.mp4", panning_frames(3), audio=False)
    before = clip.read_bytes()
    net = CountingNet()
    with pytest.raises(Exception, match="also an input"):
        apply_to_video(net, clip, clip, progress=False, overwrite=True)
    assert clip.read_bytes() == before
    (tmp_path / "out.mp4").write_bytes(b"x")
    with pytest.raises(Exception, match="already exists"):
        apply_to_video(net, clip, tmp_path / "out.mp4", progress=False)
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(VideoError, match="cannot read"):
        apply_to_video(net, tmp_path / "notes.mp4", tmp_path / "o.mp4", progress=False)
    with pytest.raises(VideoError, match="not a video file name"):
        apply_to_video(net, clip, tmp_path / "o.png", progress=False)
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(VideoError, match=r"gst-toolkit\[video\]"):
        require_av()


def test_gst_translate_and_stylize_model_take_videos(cyclegan_run, tmp_path, capsys):
    clip = make_clip(tmp_path / "clip.mp4", panning_frames(5))
    out = tmp_path / "t.mp4"
    assert main(["translate", str(cyclegan_run), str(clip), "-o", str(out), "--tile", "32"]) == 0
    assert _read(out)[0].shape == (5, 64, 96, 3)
    argv = ["stylize", "--model", str(cyclegan_run), str(clip), "-o", str(tmp_path / "s.mp4")]
    assert main([*argv, "--batch-size", "2", "--quiet"]) == 0
    assert _read(tmp_path / "s.mp4")[0].shape == (5, 64, 96, 3)
    capsys.readouterr()
    (tmp_path / "bad.mp4").write_text("junk")
    assert (
        main(
            [
                "translate",
                str(cyclegan_run),
                str(tmp_path / "bad.mp4"),
                "-o",
                str(tmp_path / "b.mp4"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "gst: error:" in err and "cannot read" in err and "Traceback" not in err
