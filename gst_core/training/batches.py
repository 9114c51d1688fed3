"""A shuffling batch sampler whose position can be saved and restored.

Batch ``k`` of a run is a pure function of ``(seed, k)``: epoch ``e`` uses a
permutation drawn from ``seed + e``, so resuming after ``k`` batches
continues exactly where the interrupted run was, whatever the number of
DataLoader workers (which prefetch ahead of what the trainer consumed).

With ``keys=True`` the sampler yields :class:`~gst_core.sample_keys.SampleKey` s
(index, epoch, seed) rather than bare indices, for datasets whose per-sample
randomness is drawn from the key (``keyed_samples = True``).

Under torchrun, process ``rank`` of ``num_replicas`` takes its slice of each
global batch, so the global order, and the position ``k`` saved in a
checkpoint, are the same whatever the number of processes.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from gst_core.errors import TrainingSetupError
from gst_core.sample_keys import SampleKey

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
    dropped (as GAN training does, so BatchNorm never sees a batch of one).

    ``batch_size`` is the global batch; with ``num_replicas > 1`` this sampler yields
    ``rank``'s ``batch_size // num_replicas`` indices of each global batch.
    """

    def __init__(
        self,
        dataset_size: int,
        batch_size: int,
        *,
        seed: int = 0,
        start: int = 0,
        rank: int = 0,
        num_replicas: int = 1,
        keys: bool = False,
    ):
        check_batch_fits(dataset_size, batch_size)
        if batch_size % num_replicas or not 0 <= rank < num_replicas:
            raise ValueError(
                f"a global batch of {batch_size} cannot be shared by {num_replicas} processes "
                f"(rank {rank}); it must be a multiple of the process count"
            )
        self.dataset_size = dataset_size
        self.batch_size = batch_size
        self.seed = seed
        self.start = start
        self.per_epoch = dataset_size // batch_size
        self.local = batch_size // num_replicas
        self.offset = rank * self.local
        self.keys = keys

    def epoch_of(self, batches: int) -> int:
        """The epoch (from 0) that batch number ``batches`` belongs to."""
        return batches // self.per_epoch

    def __iter__(self) -> Iterator[list[int]]:
        k = self.start
        while True:
            epoch, index = divmod(k, self.per_epoch)
            order = torch.randperm(
                self.dataset_size, generator=torch.Generator().manual_seed(self.seed + epoch)
            )
            for i in range(index, self.per_epoch):
                first = i * self.batch_size + self.offset
                indices = order[first : first + self.local].tolist()
                if self.keys:
                    yield [SampleKey(j, epoch, self.seed) for j in indices]
                else:
                    yield indices
            k = (epoch + 1) * self.per_epoch
