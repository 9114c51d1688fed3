"""Video throughput: frames per second of `gst stylize --model` on a clip, decode and encode
included, through a reference-size transformer_net (seeded; speed does not depend on the
weights), one torch thread.

    python benchmarks/apply/bench_video.py --out benchmarks/results/video_throughput_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image
from skimage import data

from gst_core.apply.video import apply_to_video
from gst_core.kinds import generators


def make_clip(path: Path, side: int, frames: int) -> None:
    photo = np.asarray(Image.fromarray(data.astronaut()).resize((side * 2, side * 2)))
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=24)
        video.width = video.height = side
        video.pix_fmt = "yuv420p"
        for k in range(frames):
            crop = np.ascontiguousarray(photo[side // 2 : side // 2 + side, 4 * k : 4 * k + side])
            frame = av.VideoFrame.from_ndarray(crop, format="rgb24")
            frame.pts = k
            out.mux(video.encode(frame))
        out.mux(video.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256:8,512:4", help="side:frames,...")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = generators.build({"name": "transformer_net"}).eval().to(args.device)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.sizes.split(","):
            side, frames = (int(v) for v in item.split(":"))
            clip = Path(tmp) / f"in{side}.mp4"
            make_clip(clip, side, frames)
            cpu, wall = time.process_time(), time.perf_counter()
            apply_to_video(net, clip, Path(tmp) / f"out{side}.mp4", batch=4, progress=False)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rows.append(
                {
                    "side": side,
                    "frames": frames,
                    "frames_per_cpu_second": round(frames / cpu, 3),
                    "frames_per_wall_second": round(frames / wall, 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    result = {
        "conditions": f"transformer_net (channels 32, 5 blocks), {args.device}, 1 torch thread, "
        f"{platform.machine()} with {os.cpu_count()} cores shared with other jobs (wall time is "
        "load-dependent; CPU time is what the run got); includes decoding and H.264 encoding",
        "rows": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
