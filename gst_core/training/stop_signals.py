"""SIGINT (Ctrl-C) and SIGTERM (what SLURM and Kubernetes send before a kill) end a run
with a checkpoint: the current step finishes, ``fit`` writes ``last.pt`` atomically and
returns. A second Ctrl-C stops at once: the process exits with 130/143 there and then
(``os._exit``: a KeyboardInterrupt raised at that moment could land in a finalizer and
print a traceback). An atomic write in progress leaves the previous checkpoint intact, and
the next run in that folder removes its temporary file.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["EXIT_CODES", "Terminated", "stop_on_signals"]

#: The shell's convention: 128 + the signal's number.
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Terminated(KeyboardInterrupt):
    """SIGTERM outside a training loop: ends the command like Ctrl-C (exit status 143)."""


def raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def stop_on_signals(trainer: Any, say: Any = print) -> Iterator[dict[str, int]]:
    """While the block runs, a first SIGINT/SIGTERM sets ``trainer.should_stop``; yields a
    dict that gets ``"signal"`` (its number) when one arrived. Outside the main thread
    (where Python cannot install handlers) it changes nothing."""
    received: dict[str, int] = {}
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def stop(signum: int, frame: Any) -> None:
        if "signal" in received:
            print(f"gst: {signal.Signals(signum).name} again: stopped at once", file=sys.stderr)
            sys.stderr.flush()
            os._exit(EXIT_CODES[signum])
        received["signal"] = signum
        trainer.should_stop = True
        name = signal.Signals(signum).name
        say(
            f"gst: {name} received: stopping after this step and writing a checkpoint "
            "(Ctrl-C again stops at once, without one)",
            file=sys.stderr,
        )

    previous = {s: signal.signal(s, stop) for s in EXIT_CODES}
    try:
        yield received
    finally:
        for s, handler in previous.items():
            # Once stopping, a later Ctrl-C (while the checkpoint is saved and the command
            # ends) still exits at once, never as a KeyboardInterrupt inside a finalizer.
            signal.signal(s, stop if "signal" in received else handler)
