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

__all__ = ["ResumableBatchSampler"]


class ResumableBatchSampler(Sampler[list[int]]):
    """Endless shuffled batches of ``batch_size`` indices, the last partial batch of an epoch
    dropped (as GAN training does, so BatchNorm never sees a batch of one)."""

    def __init__(self, dataset_size: int, batch_size: int, *, seed: int = 0, start: int = 0):
        if dataset_size < batch_size:
            raise ValueError(
                f"the dataset has {dataset_size} images, fewer than one batch of {batch_size}; "
                "lower batch_size or add images"
            )
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
