"""Run by test_stalled_peer.py under ``torchrun --nproc_per_node 2``: ``gst train`` where
rank 1 stalls in its data loading at the second batch (as on a hung file system)."""

from __future__ import annotations

import os
import sys
import time

from gst_core.cli import main
from gst_core.training.trainer import Trainer

if __name__ == "__main__":
    if os.environ.get("RANK") == "1":
        load = Trainer.next_batch

        def stalled(self):
            if self.batches == 1:
                time.sleep(15)
            return load(self)

        Trainer.next_batch = stalled
    sys.exit(main(sys.argv[1:]))
