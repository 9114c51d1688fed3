"""Writing a file so that readers see the old version or the new one, never half of one.

Checkpoints and images a person is watching are written to a temporary file
beside the target, flushed to disk, then renamed over it (``os.replace`` is
atomic on POSIX and Windows). A kill or an exception mid-write leaves the
previous file untouched and removes the temporary one.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from gst_core.errors import GstError

__all__ = ["FileWriteError", "atomic_write", "remove_stale_temporaries"]

# The names atomic_write's temporary files get: ".<target name>.<mkstemp's 8 characters>.tmp".
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


class FileWriteError(GstError, OSError):
    """A file could not be written (disk full, no permission, ...); the previous one is intact."""


def _new_file_mode(path: Path) -> int:
    """An existing file keeps its permissions; a new one gets what open() would give
    (0666 & ~umask; mkstemp creates files 0600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """``with atomic_write(path) as f: ...``: ``path`` appears only if the block succeeds.

    A symlink is written through (its target is replaced, the link stays). An
    ``OSError`` while writing (a full disk, a folder without write permission)
    becomes a :class:`FileWriteError` that says the previous file is intact.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, GstError):
            previous = "the previous file is intact" if path.exists() else "nothing was written"
            raise FileWriteError(
                f"cannot write {str(path)!r}: {exc.strerror or exc}; {previous}. Free some "
                "disk space or choose a folder you can write to"
            ) from exc
        raise


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files a killed :func:`atomic_write` left in ``folder``.

    Only for folders one process writes (a run folder when its run starts):
    another writer's temporary file in progress would be removed too.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if _TEMPORARY.match(p.name) and p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
