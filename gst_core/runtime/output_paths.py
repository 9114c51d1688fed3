"""Checking the paths a command will write before any long work starts.

Every command that writes (``gst stylize``, ``gst train``, ``gst sample``,
``gst translate``, ``gst export``, ...) checks its outputs here first, so a
mistake costs nothing: an output that is one of the inputs (never
overwritten), an existing file without ``overwrite``, a folder where a file is
wanted (or the reverse), an image suffix Pillow cannot write, a folder the
user may not write to. A symlinked output is written through to its target.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from gst_core.errors import GstError

__all__ = ["OutputPathError", "check_output_dir", "check_output_file", "writable_image_suffixes"]


class OutputPathError(GstError, ValueError):
    """An output path cannot or must not be written."""


def writable_image_suffixes() -> set[str]:
    """Suffixes Pillow can write (``.png``, ``.jpg``, ...)."""
    return {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE}


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable_folder(folder: Path, what: str) -> None:
    """``folder`` exists and is writable, or could be created under a writable ancestor."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputPathError(
            f"cannot write the {what} under {str(folder)!r}: {str(probe)!r} is a file, not a "
            "folder; choose another path"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"cannot write the {what} to {str(folder)!r}: {str(probe)!r} is not writable; "
            "choose a folder you can write to"
        )


def check_output_file(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    image: bool = False,
    what: str = "output",
) -> Path:
    """The file ``path`` resolved (through symlinks), once it is safe to write; else an error.

    ``image=True`` also requires a suffix Pillow can write. An existing file is
    refused unless ``overwrite``; an input is refused always.
    """
    text = os.fspath(path)
    if not text.strip():
        raise OutputPathError(f"the {what} path is empty; give a file name such as out.png")
    given = Path(text).expanduser()
    target = given.resolve()
    if target.is_dir() or text.endswith(os.sep):
        raise OutputPathError(
            f"the {what} {text!r} is a folder; give a file name inside it, e.g. "
            f"{str(Path(text) / ('out.png' if image else 'out'))!r}"
        )
    if image:
        suffixes = writable_image_suffixes()
        if target.suffix.lower() not in suffixes:
            raise OutputPathError(
                f"cannot write the {what} {text!r}: {target.suffix or 'no suffix'!r} is not an "
                "image format Pillow writes; use .png, .jpg, .webp, .tif or .bmp"
            )
    for source in inputs:
        if _same_file(Path(os.fspath(source)).expanduser(), target) or (
            Path(os.fspath(source)).expanduser().resolve() == target
        ):
            raise OutputPathError(
                f"the {what} {text!r} is also an input; gst never overwrites an input, so "
                "choose another output name"
            )
    if target.exists() and not overwrite:
        raise OutputPathError(
            f"the {what} {text!r} already exists; pass --overwrite to replace it, or choose "
            "another name"
        )
    _check_writable_folder(target.parent, what)
    return target


def check_output_dir(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    what: str = "output folder",
) -> Path:
    """The folder ``path`` (existing or to be created), once it is safe to write into."""
    text = os.fspath(path)
    if not text.strip():
        raise OutputPathError(f"the {what} path is empty; give a folder name")
    target = Path(text).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise OutputPathError(
            f"the {what} {text!r} is a file, not a folder; choose another path (or move the "
            "file away)"
        )
    for source in inputs:
        if Path(os.fspath(source)).expanduser().resolve() == target:
            raise OutputPathError(
                f"the {what} {text!r} is also an input folder; write the results elsewhere so "
                "no input is replaced"
            )
    _check_writable_folder(target, what)
    return target
