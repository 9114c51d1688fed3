"""Per-sample randomness that is a function of ``(seed, epoch, index)``, never of a worker.

Part of the plugin surface. The trainer hands a dataset that declares
``keyed_samples = True`` a :class:`SampleKey` instead of a bare index; the
dataset draws its crops, flips and partners from :func:`sample_generator`
of that key. Whichever DataLoader worker (or process under torchrun) reads
the sample, and whether the data is streamed or cached, the draws are the
same, so ``--num-workers 0`` and ``--num-workers 2`` train identical weights
and a resumed run continues exactly.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import torch

__all__ = ["SampleKey", "index_of", "sample_generator", "unpack_key"]


class SampleKey(NamedTuple):
    """Sample ``index`` of epoch ``epoch`` of a run seeded with ``seed``."""

    index: int
    epoch: int
    seed: int


def sample_generator(key: SampleKey, stream: str = "") -> torch.Generator:
    """A CPU generator seeded from ``key`` alone (a hash, so neighbouring keys are unrelated).

    ``stream`` names an independent stream for the same sample (e.g. ``"style"``: the style
    crop paired with a content image), so a second kind of draw never shifts the first."""
    name = f"gst-sample/{key.seed}/{key.epoch}/{key.index}" + (f"/{stream}" if stream else "")
    digest = hashlib.blake2b(name.encode(), digest_size=8)
    return torch.Generator().manual_seed(int.from_bytes(digest.digest(), "little") >> 1)


def unpack_key(index: int | SampleKey) -> tuple[int, torch.Generator | None]:
    """``(index, generator)``: the key's own generator, or ``None`` (torch's global RNG) for a
    bare index, as when a dataset is used outside the trainer (``dataset[3]``)."""
    if isinstance(index, SampleKey):
        return int(index.index), sample_generator(index)
    return int(index), None


def index_of(index: int | SampleKey) -> int:
    """The plain index of ``index`` (a key's, or the int itself)."""
    return int(index.index) if isinstance(index, SampleKey) else int(index)
