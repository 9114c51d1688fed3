"""A shuffling batch sampler whose position can be saved and restored.

Batch ``k`` of a run is a pure function of ``(seed, k)``: epoch ``e`` uses a
permutation drawn from ``seed + e``, so resuming after ``k`` batches
continues exactly where the interrupted run was, whatever the number of
DataLoader workers (which prefetch ahead of what the trainer consumed).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from gst_core.errors import TrainingSetupError

__all__ = ["ResumableBatchSampler", "check_batch_fits"]


def check_batch_fits(dataset_size: int, batch_size: int) -> None:
    """Refuse a dataset smaller than one batch: every batch would be dropped, so the
    sampler could never yield anything."""
    if dataset_size < batch_size:
        raise TrainingSetupError(
            f"the dataset has {dataset_size} image(s), fewer than one batch of {batch_size}; "
            f"lower the batch size (`--batch-size {max(dataset_size, 1)}`, or batch_size in "
            "[train]) or add images"
        )


class ResumableBatchSampler(Sampler[list[int]]):
    """Endless shuffled batches of ``batch_size`` indices, the last partial batch of an epoch
    dropped (as GAN training does, so BatchNorm never sees a batch of one)."""

    def __init__(self, dataset_size: int, batch_size: int, *, seed: int = 0, start: int = 0):
        check_batch_fits(dataset_size, batch_size)
        self.dataset_size = dataset_size
        self.batch_size = batch_size
        self.seed = seed
        self.start = start
        self.per_epoch = dataset_size // batch_size

    def __iter__(self) -> Iterator[list[int]]:
        k = self.start
        while True:
            epoch, index = divmod(k, self.per_epoch)
            order = torch.randperm(
                self.dataset_size, generator=torch.Generator().manual_seed(self.seed + epoch)
            )
            for i in range(index, self.per_epoch):
                yield order[i * self.batch_size : (i + 1) * self.batch_size].tolist()
            k = (epoch + 1) * self.per_epoch
