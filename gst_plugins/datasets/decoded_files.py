"""Records of image files, read from disk per sample or decoded once into memory.

The folder datasets (``folder``, ``paired``, ``unpaired``) list their files at
start-up (no decoding) and hand each record -- one file, or an A/B pair -- to
a :class:`DecodedFiles`. It either

* **streams**: ``get(i)`` opens, decodes and resizes the record's files when
  the sample is drawn, in a DataLoader worker, so memory is O(batch × workers)
  whatever the folder's size; or
* **caches**: decodes every record once, at start-up, into one uint8 tensor
  per part (fast for small sets; memory O(dataset)).

``cache = "auto"`` caches when the decoded set fits ``cache_budget_mb``
(default 256 MiB, e.g. 900 pairs at 286² or 20 000 images at 64²).

A streamed file that cannot be read when it is met (damaged, removed, a
decompression bomb) is marked in a shared table (so every worker and the
trainer see it), and the next readable record takes its place: which record
replaces it depends only on which files are unreadable, never on the worker.
The trainer warns about each one and counts them in ``metrics.jsonl``; once
more than ``max_unreadable`` of the records are unreadable, training stops
with a message naming them. A cached store skips unreadable files at
start-up (with a warning), as the folder datasets always did.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from gst_core.errors import DataError
from gst_core.images import ImageReadError, open_image

__all__ = [
    "CACHE_BUDGET_MB",
    "REDUCING_GAP",
    "MAX_UNREADABLE",
    "DecodedFiles",
    "check_store_options",
    "choose_cache",
]

CACHE_BUDGET_MB = 256
MAX_UNREADABLE = 0.5
# What reading or converting one file can raise: ImageReadError covers Pillow's own errors,
# bombs included; ValueError/SyntaxError come from damaged files some decoders let through.
UNREADABLE = (ImageReadError, OSError, ValueError, SyntaxError)

#: Turns the opened images of one record into its tensors (uint8, one per part). A convert
#: that shrinks the images may declare ``draft = (width, height)``: the size it needs at
#: least, twice its output per side (Pillow's thumbnail reducing gap), so a JPEG may be
#: decoded at a reduced scale (gst_core.images.open_image).
Convert = Callable[[list[Image.Image], Sequence[Path]], tuple[Tensor, ...]]

#: How much larger than its output a decoded draft stays (Pillow's Image.thumbnail default).
REDUCING_GAP = 2


def check_store_options(
    cache: object, cache_budget_mb: object, max_unreadable: object, owner: str
) -> None:
    if cache not in ("auto", True, False):
        raise DataError(f'{owner}: cache must be "auto", true or false, got {cache!r}')
    if isinstance(cache_budget_mb, bool) or not isinstance(cache_budget_mb, int | float):
        raise DataError(f"{owner}: cache_budget_mb must be a number, got {cache_budget_mb!r}")
    if cache_budget_mb < 0:
        raise DataError(f"{owner}: cache_budget_mb must be >= 0, got {cache_budget_mb!r}")
    if (
        isinstance(max_unreadable, bool)
        or not isinstance(max_unreadable, int | float)
        or not 0 <= max_unreadable <= 1
    ):
        raise DataError(
            f"{owner}: max_unreadable must be a share in [0, 1] (0.5: stop when half the files "
            f"cannot be read), got {max_unreadable!r}"
        )


def choose_cache(cache: str | bool, decoded_bytes: int, budget_mb: float) -> tuple[bool, str]:
    """``(cache?, why)``: the decision and the words the log line gives for it."""
    mib = decoded_bytes / 2**20
    if cache is True:
        return True, f"cache = true, {mib:,.0f} MiB"
    if cache is False:
        return False, "cache = false"
    if mib <= budget_mb:
        return True, f"{mib:,.0f} MiB fits the {budget_mb:g} MiB cache budget"
    return False, f"{mib:,.0f} MiB decoded exceeds the {budget_mb:g} MiB cache budget"


def describe(paths: Sequence[Path], limit: int = 3) -> str:
    shown = ", ".join(p.name for p in paths[:limit])
    return shown + (", ..." if len(paths) > limit else "")


class DecodedFiles:
    """``len(records)`` records, each a tuple of file paths turned into uint8 tensors by
    ``convert``; streamed or cached (see the module docstring)."""

    def __init__(
        self,
        records: Sequence[tuple[Path, ...]],
        convert: Convert,
        *,
        cache: bool,
        max_unreadable: float,
        where: str,
        owner: str,
        stack: bool = True,
    ) -> None:
        self.records = list(records)
        # False for records whose tensors differ in shape (style images keep their aspect
        # ratio): a cache then holds one list of tensors per part instead of one tensor.
        self.stack = bool(stack)
        self.convert = convert
        self.cached = bool(cache)
        self.max_unreadable = float(max_unreadable)
        self.where, self.owner = where, owner
        # Per record: 0 readable (or not met yet); k > 0: its k-th file could not be read.
        # In shared memory, so a DataLoader worker's finding reaches the trainer.
        self._bad = torch.zeros(len(self.records), dtype=torch.uint8).share_memory_()
        self._parts: tuple[Tensor | list[Tensor], ...] = ()
        self.kept = list(range(len(self.records)))
        if self.cached:
            self._decode_all()

    # -- reading ---------------------------------------------------------------------------

    def _read(self, i: int) -> tuple[Tensor, ...]:
        """Record ``i``'s tensors, or raise after marking it unreadable."""
        record = self.records[i]
        images = []
        # The smallest decode the conversion can use (JPEGs only; see open_image).
        draft = getattr(self.convert, "draft", None)
        for k, path in enumerate(record):
            try:
                images.append(open_image(path, draft))
            except UNREADABLE:
                self._bad[i] = k + 1
                raise
        try:
            return self.convert(images, record)
        except UNREADABLE:
            self._bad[i] = 1
            raise

    def _decode_all(self) -> None:
        decoded: list[tuple[Tensor, ...]] = []
        kept = []
        for i in range(len(self.records)):
            try:
                decoded.append(self._read(i))
            except UNREADABLE:
                continue
            kept.append(i)
        self.kept = kept
        total = sum(len(r) for r in self.records)
        bad = self.unreadable()
        if bad:
            warnings.warn(
                f"skipped {len(bad)} unreadable image(s) of {total} in {self.where}: "
                f"{describe(bad)}",
                stacklevel=4,
            )
        if not decoded:
            first = bad[0]
            raise DataError(
                f"{self.owner}: none of the {total} image file(s) in {self.where} could be read "
                f"(first: {first.name}: {self.reason(first)})"
            )
        self.check_unreadable()
        parts = zip(*decoded, strict=True)
        self._parts = tuple(torch.stack(p) if self.stack else list(p) for p in parts)

    def __len__(self) -> int:
        return len(self.kept)

    @property
    def parts(self) -> tuple[Tensor | list[Tensor], ...]:
        """The cached uint8 tensors, one per part of a record (empty when streamed); a list of
        tensors per part when built with ``stack=False``."""
        return self._parts

    def get(self, index: int) -> tuple[int, tuple[Tensor, ...]]:
        """``(record, tensors)`` for sample ``index``: the record itself or, when it is
        unreadable, the next readable one (``record`` says which, for its label)."""
        if self.cached:
            return self.kept[index], tuple(part[index] for part in self._parts)
        n = len(self.records)
        for step in range(n):
            i = (index + step) % n
            if self._bad[i]:
                continue
            try:
                return i, self._read(i)
            except UNREADABLE:
                if self.too_many_unreadable():
                    break
        self.check_unreadable()
        raise DataError(f"{self.owner}: none of the images in {self.where} can be read any more")

    # -- unreadable files ------------------------------------------------------------------

    def unreadable(self) -> list[Path]:
        """The files found unreadable so far (one per record)."""
        marks = self._bad.nonzero().flatten().tolist()
        return [self.records[i][int(self._bad[i]) - 1] for i in marks]

    def unreadable_count(self) -> int:
        return int(self._bad.count_nonzero())

    def too_many_unreadable(self) -> bool:
        return self.unreadable_count() > self.max_unreadable * len(self.records)

    @staticmethod
    def reason(path: Path) -> str:
        """Why ``path`` cannot be read (opened again: only for files already found bad)."""
        try:
            open_image(path)
        except UNREADABLE as exc:
            return str(exc)
        return "it could not be decoded or converted"

    def check_unreadable(self) -> None:
        """Raise :class:`DataError` naming the unreadable files beyond ``max_unreadable``."""
        if not self.too_many_unreadable():
            return
        bad = self.unreadable()
        raise DataError(
            f"{self.owner}: {len(bad)} of {len(self.records)} records in {self.where} are "
            f"unreadable, more than max_unreadable = {self.max_unreadable:g} of them: "
            f"{describe(bad, 10)} (first: {self.reason(bad[0])}). Was the folder moved or "
            "unmounted, or are the files damaged? Fix or remove them, or raise [data] "
            "max_unreadable"
        )


class FileBacked:
    """The members the trainer reads from a dataset whose images come from ``self.stores``
    (see :class:`gst_core.interfaces.ImageDataset`): mixed into the folder datasets."""

    #: Items accept a SampleKey and draw their randomness from it (see gst_core.sample_keys).
    keyed_samples = True
    stores: list[DecodedFiles]
    #: How the data is held, with the reason (for the trainer's log line).
    storage_note: str = ""

    @property
    def streamed(self) -> bool:
        """True when items are read from disk per sample (the trainer uses DataLoader workers)."""
        return any(not s.cached for s in self.stores)

    @property
    def skipped(self) -> list[Path]:
        """Files found unreadable: at start-up when cached, when met when streamed."""
        return [p for s in self.stores for p in s.unreadable()]

    def unreadable_count(self) -> int:
        return sum(s.unreadable_count() for s in self.stores)

    def check_unreadable(self) -> None:
        for store in self.stores:
            store.check_unreadable()

    def describe_unreadable(self, paths: Sequence[Path]) -> str:
        """``name (why)`` for each of ``paths`` (files already found unreadable)."""
        return "; ".join(f"{p} ({DecodedFiles.reason(p)})" for p in paths)
