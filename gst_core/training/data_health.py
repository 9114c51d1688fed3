"""The trainer's watch on a dataset streamed from disk: its log line and its unreadable files.

A file found unreadable in a DataLoader worker is marked by the dataset (see
``gst_plugins/datasets/decoded_files.py``); after each batch the trainer warns
about each newly found one, counts them (``data_unreadable`` in metrics.jsonl)
and lets the dataset stop the run once more than its ``max_unreadable`` share
is unreadable. Datasets without these members are left alone.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__ = ["DataHealth"]


class DataHealth:
    def __init__(self, data: Any) -> None:
        self.data = data
        self.tracked = callable(getattr(data, "unreadable_count", None))
        self.count = self.data.unreadable_count() if self.tracked else 0
        self.reported = self.count  # found at start-up: the dataset warned about them already

    def check(self) -> None:
        if not self.tracked:
            return
        count = self.data.unreadable_count()
        if count == self.count:
            return
        self.count = count
        self.data.check_unreadable()  # beyond the dataset's share: a DataError naming them
        new = list(self.data.skipped)[self.reported :]
        self.reported = count
        if new:
            describe = getattr(self.data, "describe_unreadable", None)
            names = describe(new) if describe else ", ".join(str(p) for p in new)
            warnings.warn(
                f"skipped {len(new)} unreadable image(s) met while training ({count} so far; "
                f"the next readable image takes each one's place): {names}",
                stacklevel=3,
            )

    def announce(self, trainer: Any) -> None:
        """One line saying how the data is held (streamed by N workers, or in memory)."""
        note = getattr(self.data, "storage_note", "")
        if not note:
            return
        if getattr(self.data, "streamed", False):
            workers = trainer.num_workers()
            note += f"; {workers} DataLoader worker(s)" if workers else "; read in this process"
        print(f"gst: data: {note}", file=sys.stderr)
