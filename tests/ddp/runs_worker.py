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

if __name__ == "__main__":
    torch.set_num_threads(1)
    jobs = json.loads((Path(sys.argv[1]) / "jobs.json").read_text())
    try:
        for job in jobs:
            build_trainer(job["config"], job["objective"]).fit(resume=job.get("resume"))
    finally:
        distributed.teardown()
