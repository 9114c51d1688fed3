"""Run by test_objectives.py under ``torchrun --nproc_per_node 2``: trains each job of
``jobs.json`` through the Python API, one after the other in the same two processes (one
launch instead of one per objective, to keep the suite short)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from gst_core.training import distributed
from gst_core.training.build import build_trainer
from gst_core.training.callbacks import Callback


class StopAt(Callback):
    """Asks to stop after ``step``, on rank 0 only (callbacks run there)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, step, metrics) -> None:
        if step == self.step:
            trainer.should_stop = True


if __name__ == "__main__":
    torch.set_num_threads(1)
    jobs = json.loads((Path(sys.argv[1]) / "jobs.json").read_text())
    try:
        for job in jobs:
            trainer = build_trainer(job["config"], job["objective"])
            if "stop_at" in job and trainer.dist.is_main:
                trainer.callbacks.append(StopAt(job["stop_at"]))
            trainer.fit(resume=job.get("resume"))
    finally:
        distributed.teardown()
