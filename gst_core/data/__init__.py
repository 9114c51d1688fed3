"""Datasets for training: the user's image folders and built-in offline data.

Every dataset yields ``(image, label)`` with a float ``(C, H, W)`` image in
``[-1, 1]`` and an int label (``-1`` when unlabelled), and has
``num_classes`` and ``classes``. :func:`build_dataset` builds one from a
``[data]`` config section.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from gst_core.data.digits import SklearnDigits
from gst_core.data.image_folder import DataError, ImageFolder, find_images
from gst_core.data.in_memory import InMemoryImages
from gst_core.data.shapes import ProceduralShapes

__all__ = [
    "DATASETS",
    "DataError",
    "ImageFolder",
    "InMemoryImages",
    "ProceduralShapes",
    "SklearnDigits",
    "build_dataset",
    "find_images",
]

#: ``[data] name = ...`` → dataset class.
DATASETS: dict[str, Callable[..., InMemoryImages]] = {
    "shapes": ProceduralShapes,
    "digits": SklearnDigits,
    "folder": ImageFolder,
}


def build_dataset(spec: Mapping[str, Any], *, source: str = "[data]") -> InMemoryImages:
    """Build a dataset from ``{"name": "shapes" | "digits" | "folder", **options}``."""
    options = dict(spec)
    name = options.pop("name", None)
    if name is None and "root" in options:
        name = "folder"
    if name not in DATASETS:
        close = difflib.get_close_matches(str(name), DATASETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(
            f"{source}: unknown dataset {name!r}{hint} (datasets: {', '.join(DATASETS)}; "
            'for your own images: name = "folder", root = "path/to/images")'
        )
    factory = DATASETS[name]
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise DataError(
            f"{source}: dataset {name!r} cannot take {options}: {exc}; its options are "
            f"{inspect.signature(factory)}"
        ) from None
    try:
        return factory(**options)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{source}: {exc}") from exc
