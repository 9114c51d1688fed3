"""A run folder is the user's work: one process holds it, a fresh run never overwrites it.

``hold_run_folder`` takes an exclusive lock on ``<run>/.gst.lock`` (``fcntl.flock``:
the kernel releases it when the holder dies, even by ``kill -9``, so a stale lock
never blocks; its record -- pid, host, start time -- says who held it). A fresh run
(not resumed) into a folder that already holds anything is refused, naming
``--resume`` and ``--overwrite``; with ``overwrite`` the old folder is moved aside
whole (nothing is deleted, the user's own files included) and the move is reported.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gst_core.errors import GstError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; the run is then not locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunFolderError", "hold_run_folder"]

LOCK_NAME = ".gst.lock"


class RunFolderError(GstError, RuntimeError):
    """A run folder is in use by another process, or holds a run a fresh run would overwrite."""


def _describe(record: dict) -> str:
    started = record.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "?"
    return f"pid {record.get('pid', '?')} on host {record.get('host', '?')} (started {when})"


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _lock(run_dir: Path) -> int | None:
    """Take the lock (returns its file descriptor) or raise RunFolderError naming the holder."""
    if fcntl is None:  # pragma: no cover
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunFolderError(
                f"run folder {str(run_dir)!r} is in use by {_describe(_read_record(path))}; "
                "wait for that run to end (or stop it), or choose another --run-dir"
            ) from None
        # The holder before us may have removed the file between our open and our lock:
        # then we locked a file nobody else sees; try again on the one that is there.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    previous = _read_record(path)
    if previous:
        # The lock was free, yet a record is there: its process ended without releasing it.
        warnings.warn(
            f"took over the lock of run folder {str(run_dir)!r} left by {_describe(previous)}, "
            "which is no longer running",
            stacklevel=3,
        )
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
    return fd


def _unlock(run_dir: Path, fd: int | None) -> None:
    if fd is None:  # pragma: no cover
        return
    # Removed while still held, so a process that opens it now finds it gone (see _lock).
    (run_dir / LOCK_NAME).unlink(missing_ok=True)
    os.close(fd)


def _contents(run_dir: Path) -> list[str]:
    if not run_dir.is_dir():
        return []
    return sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_NAME)


def _aside(run_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = run_dir.with_name(f"{run_dir.name}.previous-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = run_dir.with_name(f"{run_dir.name}.previous-{stamp}-{n}")
    return target


@contextmanager
def hold_run_folder(
    run_dir: str | Path, *, fresh: bool, overwrite: bool = False
) -> Iterator[Path | None]:
    """Hold ``run_dir`` for the duration of the block; yields where a previous run was
    moved (``overwrite``), else None. ``fresh``: this run starts at step 0, not resumed."""
    run_dir = Path(run_dir)
    fd = _lock(run_dir)
    moved: Path | None = None
    try:
        existing = _contents(run_dir) if fresh else []
        if existing and not overwrite:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise RunFolderError(
                f"run folder {str(run_dir)!r} is not empty ({shown}); a new run would overwrite "
                "it. Continue that run with --resume, start over with --overwrite (the old "
                "folder is moved aside, nothing is deleted), or choose another --run-dir"
            )
        if existing:
            moved = _aside(run_dir)
            _unlock(run_dir, fd)
            fd = None
            try:
                run_dir.rename(moved)
            except OSError as exc:
                raise RunFolderError(
                    f"--overwrite: cannot move the previous run folder {str(run_dir)!r} aside "
                    f"to {str(moved)!r}: {exc.strerror or exc}; move or delete it yourself"
                ) from exc
            warnings.warn(
                f"the previous contents of run folder {str(run_dir)!r} were moved to "
                f"{str(moved)!r} (nothing was deleted)",
                stacklevel=3,
            )
            fd = _lock(run_dir)
        yield moved
    finally:
        if fd is not None:
            _unlock(run_dir, fd)
