"""Apply an image generator to a video file, frame by frame, in bounded memory.

    from gst_core.apply.video import apply_to_video
    apply_to_video(generator, "clip.mp4", "out.mp4")

Decoding and encoding go through PyAV (FFmpeg in its wheels; the ``video`` extra).
Frames are streamed in batches of ``batch`` through the same path as images
(:func:`gst_core.apply.tiling.apply_tiled`: padded to the network's size multiple,
tiled when a frame does not fit the memory budget), so memory does not grow with
the clip's length. The frame count, frame rate and size are kept; audio streams
are copied packet for packet (no re-encoding). The output is written to a
temporary file next to it and renamed at the end, so a failed run leaves no
half-written video, and the input is never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from gst_core.apply.tiling import Tiling, apply_tiled
from gst_core.errors import GstError
from gst_core.runtime.output_paths import check_output_file

__all__ = [
    "VIDEO_SUFFIXES",
    "VideoError",
    "apply_to_video",
    "is_video",
    "read_frames",
    "require_av",
]

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"})
#: Encoders tried in order when the input's own codec has no encoder here.
FALLBACK_CODECS = {".webm": ("libvpx-vp9",), "": ("libx264", "h264", "mpeg4")}


class VideoError(GstError, ValueError):
    """A video that cannot be read or written (not a video, no codec, no PyAV)."""


def require_av():
    """The ``av`` module, or a one-line error naming the extra to install."""
    try:
        import av
    except ImportError as exc:
        raise VideoError("video files need PyAV: pip install 'gst-toolkit[video]'") from exc
    return av


def is_video(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a video file by its suffix (``.mp4``, ``.mov``, ...)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _open_input(av, path: Path):
    if not path.is_file():
        raise VideoError(f"video {str(path)!r} does not exist")
    try:
        container = av.open(str(path))
    except (av.error.InvalidDataError, av.error.FFmpegError, OSError) as exc:
        raise VideoError(
            f"cannot read {str(path)!r} as a video ({exc}); is it a complete video file "
            "(MP4, MOV, MKV, WebM, AVI)?"
        ) from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{str(path)!r} holds no video stream (audio only?)")
    return container


def read_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """The frames of the video ``path``, one uint8 ``(H, W, 3)`` array at a time."""
    av = require_av()
    container = _open_input(av, Path(path).expanduser())
    try:
        for frame in container.decode(container.streams.video[0]):
            yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as exc:
        raise VideoError(f"cannot decode {str(path)!r}: {exc}") from exc
    finally:
        container.close()


def _encoder(av, source_codec: str, suffix: str) -> str:
    available = av.codecs_available
    for name in (source_codec, *FALLBACK_CODECS.get(suffix, FALLBACK_CODECS[""])):
        try:
            if name in available and av.codec.Codec(name, "w"):
                return name
        except (av.error.FFmpegError, ValueError):
            continue
    raise VideoError(
        f"no video encoder for {suffix or 'this format'} in this FFmpeg build (tried "
        f"{source_codec}, {', '.join(FALLBACK_CODECS.get(suffix, FALLBACK_CODECS['']))}); "
        "write .mp4, or install a PyAV wheel with that codec"
    )


def _batches(frames: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def apply_to_video(
    generator: nn.Module,
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    batch: int = 4,
    tiling: Tiling | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Write ``generator`` applied to every frame of ``source`` to ``target``; returns it."""
    av = require_av()
    source = Path(source).expanduser()
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise VideoError(f"batch must be a positive number of frames, got {batch!r}")
    target = check_output_file(target, inputs=[source], overwrite=overwrite, what="video")
    if not is_video(target):
        raise VideoError(
            f"the output {str(target)!r} is not a video file name; use one of "
            f"{', '.join(sorted(VIDEO_SUFFIXES))}"
        )
    tiling = tiling or Tiling()
    reader = _open_input(av, source)
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")
    try:
        video_in = reader.streams.video[0]
        audio_in = list(reader.streams.audio)
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(25)
        codec = _encoder(av, video_in.codec_context.name, target.suffix.lower())
        total = video_in.frames or None
        with av.open(str(partial), "w") as writer:
            video_out = writer.add_stream(codec, rate=rate)
            video_out.width, video_out.height = video_in.width, video_in.height
            video_out.pix_fmt = "yuv420p"
            if codec == "libx264":  # visually lossless: stylised textures suffer at the default 23
                video_out.options = {"crf": "17"}
            audio_out = {a.index: writer.add_stream_from_template(a) for a in audio_in}
            bar = tqdm(total=total, desc="video", unit="frame", disable=not progress)
            count = 0

            def encode(frames: np.ndarray) -> None:
                nonlocal count
                for out in apply_tiled(generator, frames, tiling):
                    if out.shape[-1] == 1:  # a grayscale generator
                        out = np.repeat(out, 3, axis=-1)
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(out), format="rgb24")
                    frame.pts = count
                    count += 1
                    for packet in video_out.encode(frame):
                        writer.mux(packet)
                bar.update(len(frames))

            def decoded() -> Iterator[np.ndarray]:
                for packet in reader.demux(video_in, *audio_in):
                    if packet.stream.type == "audio":
                        if packet.dts is not None:
                            packet.stream = audio_out[packet.stream.index]
                            writer.mux(packet)
                        continue
                    for frame in packet.decode():
                        yield frame.to_ndarray(format="rgb24")

            try:
                for frames in _batches(decoded(), batch):
                    encode(frames)
            except av.error.FFmpegError as exc:
                raise VideoError(f"cannot decode {str(source)!r}: {exc}") from exc
            for packet in video_out.encode(None):
                writer.mux(packet)
            bar.close()
        if count == 0:
            raise VideoError(f"{str(source)!r} holds no frames that could be decoded")
        os.replace(partial, target)
    finally:
        reader.close()
        partial.unlink(missing_ok=True)
    return target
