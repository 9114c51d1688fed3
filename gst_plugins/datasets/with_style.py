"""Content samples paired with style crops, read together in the trainer's DataLoader workers.

``gan_style`` and ``adain`` draw a style crop for every content image. Their
objectives hand the trainer ``WithStyle(content, styles, size)`` in place of
the content data (``Objective.training_data``), so a style folder streams
through the same machinery as the content: the crops are decoded in the
DataLoader workers, prefetched, sharded under torchrun, and the trainer's
checks on unreadable files cover both folders.

Item ``key`` is ``(content[key], crop)``. The crop is drawn from
``sample_generator(key, "style")``: a function of (seed, epoch, index) alone,
independent of the content's own draws, so the worker count never changes a
run and a resume in the middle of an epoch continues exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset, IterableDataset

from gst_core.sample_keys import SampleKey, index_of, sample_generator

from .style_images import StyleImages

__all__ = ["WithStyle", "pairable", "style_key"]


def pairable(dataset: Any) -> bool:
    """Whether ``dataset`` can be paired: map-style with a length, as the trainer's resumable
    sampler reads it (an iterable of batches is not)."""
    return (
        isinstance(dataset, Dataset)
        and not isinstance(dataset, IterableDataset)
        and hasattr(dataset, "__len__")
    )


def style_key(key: int | SampleKey) -> SampleKey:
    """The key a sample's style crop is drawn from (a bare index: epoch 0, seed 0)."""
    return key if isinstance(key, SampleKey) else SampleKey(int(key), 0, 0)


class WithStyle(Dataset):
    """``(content item, style crop in [0, 1])`` for each content sample."""

    #: The trainer hands SampleKeys; they are passed on to keyed content data.
    keyed_samples = True

    def __init__(self, content: Any, styles: StyleImages, size: int) -> None:
        self.content, self.styles, self.size = content, styles, int(size)
        self._content_keyed = bool(getattr(content, "keyed_samples", False))
        notes = [getattr(content, "storage_note", ""), styles.storage_note]
        self.storage_note = "; ".join(n for n in notes if n)

    def __len__(self) -> int:
        return len(self.content)

    def _content_key(self, key: int | SampleKey) -> int | SampleKey:
        return key if self._content_keyed else index_of(key)

    def style(self, key: int | SampleKey) -> Tensor:
        return self.styles.crop(self.size, sample_generator(style_key(key), "style"))

    def __getitem__(self, key: int | SampleKey) -> tuple[Any, Tensor]:
        return self.content[self._content_key(key)], self.style(key)

    @property
    def get_batch(self) -> Callable[[Sequence[int | SampleKey]], tuple[Any, Tensor]]:
        """A whole batch at once, when the content data has ``get_batch`` (in memory)."""
        if not hasattr(self.content, "get_batch"):
            raise AttributeError("get_batch")  # hasattr() is then False, as the trainer asks
        return self._get_batch

    def _get_batch(self, keys: Sequence[int | SampleKey] | Tensor) -> tuple[Any, Tensor]:
        if isinstance(keys, Tensor):
            keys = keys.tolist()
        content = self.content.get_batch([self._content_key(k) for k in keys])
        return content, torch.stack([self.style(k) for k in keys])

    # -- what the trainer reads for streamed data and unreadable files ----------------------

    @property
    def streamed(self) -> bool:
        return bool(getattr(self.content, "streamed", False)) or self.styles.streamed

    @property
    def skipped(self) -> list[Path]:
        return [*getattr(self.content, "skipped", []), *self.styles.skipped]

    def unreadable_count(self) -> int:
        count = getattr(self.content, "unreadable_count", None)
        return (count() if callable(count) else 0) + self.styles.unreadable_count()

    def check_unreadable(self) -> None:
        check = getattr(self.content, "check_unreadable", None)
        if callable(check):
            check()
        self.styles.check_unreadable()

    def describe_unreadable(self, paths: Sequence[Path]) -> str:
        return self.styles.describe_unreadable(paths)

    def __getattr__(self, name: str) -> Any:
        # The content's other members (num_classes, image_shape, paired, ...), for callbacks
        # that read them. Only called for names not found on the wrapper itself.
        if name.startswith("__") or name in ("content", "styles"):
            raise AttributeError(name)
        return getattr(self.content, name)
