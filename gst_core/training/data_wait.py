"""How much of the training time goes to waiting for data.

A loader that cannot keep up shows as steps that are mostly waiting: the trainer
logs ``data_wait_share``, the share of wall time since the last log spent inside
``next_batch`` (fetching, decoding and augmenting in the main process, or waiting
for the DataLoader's workers). Near 0 the step is fed; near 1 it starves, and
more ``num_workers``, a smaller image size or ``cache = true`` is the fix.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

__all__ = ["DataWaitClock"]


class DataWaitClock:
    """Accumulates time spent waiting for batches between two reads of :meth:`share`."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._waited = 0.0
        self._since = self._started = clock()
        self._waited_in_all = 0.0

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        start = self._clock()
        try:
            yield
        finally:
            waited = self._clock() - start
            self._waited += waited
            self._waited_in_all += waited

    def share(self) -> float:
        """The share of wall time spent waiting since the last call (or creation), in [0, 1]."""
        now = self._clock()
        elapsed = now - self._since
        share = self._waited / elapsed if elapsed > 0 else 0.0
        self._waited, self._since = 0.0, now
        return min(1.0, max(0.0, share))

    def share_in_all(self) -> float:
        """The share of wall time spent waiting since the clock was made (the run's summary)."""
        elapsed = self._clock() - self._started
        return min(1.0, self._waited_in_all / elapsed) if elapsed > 0 else 0.0
