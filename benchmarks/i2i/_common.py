"""Shared by the image-to-image benchmarks: a CPU-time budget and the result file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from gst_core.images import make_grid, save_image
from gst_core.training import Callback, Trainer


class TimeLimit(Callback):
    """Stops training after ``seconds`` of this process's CPU time (the machine is shared:
    other jobs slow the wall clock, not the CPU time a run gets)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.start = time.process_time()

    def on_step_end(self, trainer: Trainer, step, metrics) -> None:
        if time.process_time() - self.start > self.seconds:
            trainer.should_stop = True


def machine() -> dict[str, Any]:
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        "(shared with other jobs)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def save_strip(images: torch.Tensor, nrow: int, path: Path) -> None:
    """Images in [-1, 1] as a small palette PNG for the README."""
    save_image(make_grid((images.float().cpu() + 1) / 2, nrow=nrow), path)
    Image.open(path).convert("RGB").quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    ).save(path, optimize=True)
