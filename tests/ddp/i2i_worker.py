"""Run by test_i2i.py under ``torchrun --nproc_per_node 2``: trains the image-to-image
objectives from the configs in ``configs.json`` through the Python API, one after the other
in the same two processes (one launch instead of two)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from gst_core.training import distributed
from gst_core.training.build import build_trainer

if __name__ == "__main__":
    torch.set_num_threads(1)
    folder = Path(sys.argv[1])
    configs = json.loads((folder / "configs.json").read_text())
    try:
        for objective, config in configs.items():
            build_trainer(config, objective).fit()
    finally:
        distributed.teardown()
