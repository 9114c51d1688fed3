"""Uploaded files, checked as ``gst`` checks files given on the command line.

An upload is read with :func:`gst_core.images.load_image`, so a non-image, a damaged file or a
decompression bomb gets the same one-line message, naming the file as the user called it
(not the temporary path it was stored under).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from gst_core.errors import GstError
from gst_core.images import ImageReadError, load_image, open_image

__all__ = ["UploadError", "check_uploads", "read_upload", "upload_paths"]


class UploadError(GstError, ValueError):
    """An upload is missing, or is not an image gst can read."""


def upload_paths(files: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """The web form's value (none, one path or several) as a list of paths."""
    if files is None:
        return []
    if isinstance(files, str | Path):
        return [Path(files)]
    return [Path(f) for f in files]


def _named(exc: ImageReadError, path: Path) -> UploadError:
    # The stored path is a temporary one the user never chose; their file's name is kept.
    return UploadError(str(exc).replace(str(path), path.name))


def read_upload(path: str | Path, size: int | None = None) -> Tensor:
    """An uploaded image as ``(1, 3, H, W)`` in ``[0, 1]``, its longer side ``size`` pixels."""
    path = Path(path)
    try:
        return load_image(path, size)
    except ImageReadError as exc:
        raise _named(exc, path) from exc


def check_uploads(
    files: str | Path | Sequence[str | Path] | None, what: str, *, required: bool = True
) -> list[Path]:
    """Every upload decoded once (non-images and bombs refused); their paths.

    ``what`` names the field in the message when nothing was uploaded and ``required``.
    """
    paths = upload_paths(files)
    if required and not paths:
        raise UploadError(f"drop {what} first")
    for path in paths:
        try:
            open_image(path).close()
        except ImageReadError as exc:
            raise _named(exc, path) from exc
    return paths
