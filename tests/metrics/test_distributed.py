"""Two processes (gloo) that sync their accumulators get the numbers one process gets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gst_core.metrics import FIDAccumulator, KIDAccumulator


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 24)) + 5.0, rng.normal(size=(260, 24)) * 1.3


def worker(rank: int, world: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        real, fake = data()
        # Uneven shares: rank 0 sees 100 real and 200 fake rows, rank 1 the rest.
        r = real[:100] if rank == 0 else real[100:]
        f = fake[:200] if rank == 0 else fake[200:]
        fid = FIDAccumulator().update(r, real=True).update(f, real=False).sync()
        kid = KIDAccumulator().update(r, real=True).update(f, real=False).sync()
        result = {
            "fid": fid.compute(),
            "n": [fid.real.n, fid.fake.n],
            "kid": kid.compute(subsets=3, subset_size=100, seed=2),
        }
        with open(f"{out}.{rank}", "w") as fh:
            json.dump(result, fh)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_two_processes_synced_equal_one(tmp_path):
    out = str(tmp_path / "result")
    mp.spawn(worker, args=(2, str(tmp_path / "init"), out), nprocs=2, join=True)
    real, fake = data()
    fid = FIDAccumulator().update(real, real=True).update(fake, real=False).compute()
    kid = KIDAccumulator().update(real, real=True).update(fake, real=False)
    expected_kid = kid.compute(subsets=3, subset_size=100, seed=2)
    for rank in range(2):
        result = json.loads((tmp_path / f"result.{rank}").read_text())
        assert result["n"] == [300, 260]
        assert result["fid"] == pytest.approx(fid, rel=1e-10)
        assert result["kid"] == pytest.approx(list(expected_kid), rel=1e-10)
