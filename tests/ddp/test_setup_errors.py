"""Setting up a distributed run: each mistake gives a GstError that names it and the fix.

These run in the test process: the environment torchrun would set is faked, and every check
fails before a process group could be joined."""

from __future__ import annotations

import socket

import pytest
import torch

from gst_core.config import load_toml
from gst_core.errors import GstError, TrainingSetupError
from gst_core.training import distributed
from gst_core.training.batches import ResumableBatchSampler
from gst_core.training.build import build_trainer
from tests.ddp.conftest import write_config


@pytest.fixture
def two_process_env(monkeypatch):
    """The variables torchrun sets for rank 0 of 2 (no process group is joined by the tests)."""
    for name, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    yield
    distributed.teardown()


def test_port_in_use(two_process_env, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("MASTER_PORT", str(port))
        with pytest.raises(TrainingSetupError) as info:
            distributed.setup({"timeout": 10}, "cpu")
    assert str(info.value).startswith(f"port {port} is in use")
    assert "--master_port" in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_nccl_without_gpus(two_process_env):
    with pytest.raises(TrainingSetupError, match="backend = 'nccl' needs CUDA GPUs"):
        distributed.setup({"backend": "nccl"}, "auto")


def test_global_batch_must_split(tmp_path, monkeypatch):
    """The trainer refuses a global batch of 9 over 2 processes before anything is written."""
    monkeypatch.setattr(distributed, "setup", lambda *a, **k: distributed.DistributedRun(0, 2))
    config = load_toml(write_config(tmp_path))
    with pytest.raises(TrainingSetupError) as info:
        build_trainer(config, "gan", overrides={"batch_size": 9, "run_dir": str(tmp_path / "r")})
    assert str(info.value) == (
        "[train] batch_size = 9 is the global batch and must split evenly over the 2 "
        "processes; use a multiple of 2 (e.g. 8 or 10)"
    )
    assert not (tmp_path / "r").exists()


def test_bad_options():
    with pytest.raises(TrainingSetupError, match="unknown option"):
        distributed.DistributedOptions.from_mapping({"backnd": "gloo"})
    with pytest.raises(TrainingSetupError, match="must be a table"):
        distributed.DistributedOptions.from_mapping("gloo")
    with pytest.raises(TrainingSetupError, match="backend must be one of auto, gloo, nccl"):
        distributed.DistributedOptions.from_mapping({"backend": "mpi"})


def test_single_process_is_untouched(monkeypatch):
    """Without torchrun's variables nothing is joined and the helpers are identities."""
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    run = distributed.setup({}, "cpu")
    assert (run.rank, run.world_size, run.enabled, run.is_main) == (0, 1, False, True)
    t = torch.arange(3.0)
    assert distributed.all_reduce(t, "mean") is t
    assert distributed.mean_over_processes({"a": 1.5}, torch.device("cpu")) == {"a": 1.5}
    torch.manual_seed(5)
    drawn = distributed.per_sample(4, lambda n: torch.randn(n, 2))
    torch.manual_seed(5)
    assert torch.equal(drawn, torch.randn(4, 2))
    assert distributed.should_report(GstError("x"))


def test_shards_partition_each_global_batch():
    """Rank r's batch k is slice r of the single-process batch k, across epochs and on resume,
    so the position saved in a checkpoint means the same for any process count."""
    whole = ResumableBatchSampler(20, 8, seed=4)
    shards = [ResumableBatchSampler(20, 8, seed=4, rank=r, num_replicas=2) for r in range(2)]
    streams = [iter(whole), *(iter(s) for s in shards)]
    for _ in range(7):  # 2 batches an epoch: several epochs
        batch, first, second = (next(s) for s in streams)
        assert first + second == batch and len(first) == 4
    resumed = iter(ResumableBatchSampler(20, 8, seed=4, start=5, rank=1, num_replicas=2))
    expected = iter(ResumableBatchSampler(20, 8, seed=4, start=5))
    for _ in range(3):
        assert next(resumed) == next(expected)[4:]
    with pytest.raises(ValueError, match="multiple of the process count"):
        ResumableBatchSampler(20, 9, num_replicas=2)


def test_sync_batchnorm_on_cpu_warns_and_keeps_batchnorm():
    """PyTorch's SyncBatchNorm refuses CPU tensors: gst says so and keeps plain BatchNorm."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    with pytest.warns(UserWarning, match="SyncBatchNorm refuses CPU tensors") as record:
        distributed._convert_sync_batchnorm({"d": net}, torch.device("cpu"), announce=True)
    assert "batch_size / world_size images" in str(record[0].message)
    assert type(net[1]) is torch.nn.BatchNorm2d


def test_dcgan_generator_without_batchnorm():
    """norm = "none" / "instance" leave no BatchNorm, so the result cannot depend on how the
    batch is split; conditional BatchNorm cannot be combined with them."""
    from gst_core.kinds import generators
    from gst_plugins._shared.blocks import ArchitectureError

    def has_batchnorm(g):
        return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in g.modules())

    kwargs = {"latent_dim": 8, "image_size": 16, "width": 8}
    assert has_batchnorm(generators.build("dcgan", **kwargs))
    for norm in ("none", "instance"):
        g = generators.build("dcgan", norm=norm, **kwargs)
        assert not has_batchnorm(g)
        torch.manual_seed(0)
        z = torch.randn(4, 8)
        # Each sample's image is the same alone as in a batch.
        assert torch.allclose(g(z)[1:2], g(z[1:2]), atol=1e-6)
    with pytest.raises(ArchitectureError, match="needs norm = 'batch'"):
        generators.build("dcgan", num_classes=3, norm="none", **kwargs)
    with pytest.raises(ArchitectureError, match="norm must be one of batch, instance, none"):
        generators.build("dcgan", norm="layer", **kwargs)
