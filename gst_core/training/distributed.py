"""Training on several processes with PyTorch's DistributedDataParallel, launched by ``torchrun``.

gst launches nothing itself: ``torchrun`` starts one process per GPU (or per
CPU share) and sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``; :func:`setup` reads them and joins the default process
group (NCCL on CUDA, gloo on CPU). Without those variables (or with a world
of one) everything here is a no-op and training runs in one process.

The rules a distributed run follows:

* ``[train] batch_size`` is the *global* batch: each process takes its
  ``batch_size / world_size`` slice of every global batch of the shared,
  resumable order (:class:`~gst_core.training.batches.ResumableBatchSampler`).
* Every process seeds the same global RNG and draws the same numbers.
  Per-sample noise (latents) is drawn for the global batch and sliced
  (:func:`per_sample`, used by ``ImageGenerator.sample_latent``), so one
  process with batch 8 and two with 4 each see the same data and the same
  noise at every step.
* Each trainable network is wrapped in its own ``DistributedDataParallel``;
  DDP averages gradients in every backward. A network frozen with
  ``requires_grad_(False)`` (D during the generator's update) fires no DDP
  hook, so each backward synchronises exactly the networks it trains.
* Only rank 0 writes (grids, metrics, checkpoints, progress bar); logged
  losses are averaged over processes first (:func:`mean_over_processes`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from gst_core.errors import GstError, TrainingSetupError
from gst_core.per_sample import per_sample

__all__ = [
    "DistributedOptions",
    "DistributedRun",
    "all_gather",
    "all_reduce",
    "check_global_batch",
    "current",
    "data_rng",
    "mean_over_processes",
    "per_sample",
    "setup",
    "should_report",
    "teardown",
]

BACKENDS = ("auto", "gloo", "nccl")


@dataclass
class DistributedOptions:
    """The ``[train.distributed]`` table: only read when the run is launched by ``torchrun``."""

    backend: str = "auto"  # "auto": nccl when the device is CUDA, gloo otherwise
    sync_batchnorm: bool = False  # SyncBatchNorm (CUDA only): BatchNorm over the global batch
    find_unused_parameters: bool = False  # only for networks with parameters a step leaves unused
    timeout: float = 1800.0  # seconds a collective waits for a missing process
    # Seconds the per-step check-in (after each batch is loaded, before the step's own
    # collectives) waits for a stalled process: a hung data loader or file system is then
    # named by rank after minutes, not after `timeout`.
    stall_timeout: float = 300.0

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> DistributedOptions:
        if options is not None and not isinstance(options, Mapping):
            raise TrainingSetupError(
                f"[train.distributed] must be a table (backend, sync_batchnorm, "
                f"find_unused_parameters, timeout), got {options!r}"
            )
        options = dict(options or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TrainingSetupError(
                f"[train.distributed]: unknown option(s) {', '.join(unknown)} "
                f"(options: {', '.join(sorted(known))})"
            )
        found = cls(**options)
        if found.backend not in BACKENDS:
            raise TrainingSetupError(
                f"[train.distributed] backend must be one of {', '.join(BACKENDS)}, "
                f"got {found.backend!r}"
            )
        for key in ("timeout", "stall_timeout"):
            value = getattr(found, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise TrainingSetupError(
                    f"[train.distributed] {key} must be > 0 seconds, got {value!r}"
                )
        return found


@dataclass(frozen=True)
class DistributedRun:
    """Where this process stands: its rank among ``world_size`` processes (1: not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and shows progress."""
        return self.rank == 0

    def device(self, requested: str) -> torch.device:
        """The device this process trains on: ``cuda`` becomes ``cuda:LOCAL_RANK``."""
        if requested == "auto":
            requested = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(requested)
        if self.enabled and device.type == "cuda" and device.index is None:
            device = torch.device("cuda", self.local_rank)
        return device

    def local_batch(self, global_batch: int) -> int:
        return check_global_batch(global_batch, self.world_size)

    def wrap(
        self,
        networks: Mapping[str, nn.Module],
        device: torch.device,
        options: DistributedOptions,
    ) -> dict[str, nn.Module]:
        """Each trainable network in its own ``DistributedDataParallel`` (the others as they
        are). The wrappers share their parameters with ``networks``, which stay the raw modules
        that checkpoints save, so DDP and single-process checkpoints are interchangeable."""
        if not self.enabled:
            return dict(networks)
        if options.sync_batchnorm:
            _convert_sync_batchnorm(networks, device, announce=self.is_main)
        elif self.is_main:
            _warn_batchnorm(networks, self.world_size)
        device_ids = [device.index] if device.type == "cuda" else None
        wrapped: dict[str, nn.Module] = {}
        for name, net in networks.items():
            if not any(p.requires_grad for p in net.parameters()):
                wrapped[name] = net  # DDP refuses a module with nothing to train
                continue
            wrapped[name] = DistributedDataParallel(
                net,
                device_ids=device_ids,
                find_unused_parameters=options.find_unused_parameters,
            )
        return wrapped


def _convert_sync_batchnorm(
    networks: Mapping[str, nn.Module], device: torch.device, *, announce: bool
) -> None:
    if device.type != "cuda":
        if announce:
            warnings.warn(
                "[train.distributed] sync_batchnorm = true needs CUDA: PyTorch's SyncBatchNorm "
                "refuses CPU tensors. Training goes on with plain BatchNorm, so each process "
                "normalises with the statistics of its own share of the batch "
                "(batch_size / world_size images); use instance norm or no norm for results "
                "that do not depend on the process count",
                stacklevel=3,
            )
        return
    for net in networks.values():
        # In place for nested BatchNorm layers; the parameters stay the same objects, so the
        # optimisers and EMA copies built from them keep working.
        converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        if converted is not net:
            raise TrainingSetupError(
                "sync_batchnorm: a network that is itself a BatchNorm layer cannot be "
                "converted in place; wrap it in an nn.Sequential"
            )


def _warn_batchnorm(networks: Mapping[str, nn.Module], world_size: int) -> None:
    with_bn = [
        name
        for name, net in networks.items()
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    ]
    if with_bn:
        warnings.warn(
            f"{', '.join(with_bn)} use(s) BatchNorm: with {world_size} processes each one "
            "normalises over its own share of the batch. Set [train.distributed] "
            "sync_batchnorm = true on GPUs for statistics over the global batch",
            stacklevel=3,
        )


def check_global_batch(global_batch: int, world_size: int) -> int:
    """The per-process batch; refuses a global batch that does not split evenly."""
    if global_batch % world_size:
        lower = global_batch - global_batch % world_size
        options = f"{lower} or {lower + world_size}" if lower else str(world_size)
        raise TrainingSetupError(
            f"[train] batch_size = {global_batch} is the global batch and must split evenly "
            f"over the {world_size} processes; use a multiple of {world_size} (e.g. {options})"
        )
    return global_batch // world_size


# -- joining and leaving the process group -------------------------------------------


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise TrainingSetupError(
            f"environment variable {name}={value!r} is not an integer"
        ) from None


def launched() -> bool:
    """Whether torchrun (or a launcher setting the same variables) started several processes."""
    return _env_int("WORLD_SIZE", 1) > 1


def current() -> DistributedRun:
    """This process's place in the run (rank 0 of 1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return DistributedRun(
            rank=dist.get_rank(),
            world_size=dist.get_world_size(),
            local_rank=_env_int("LOCAL_RANK", 0),
            backend=str(dist.get_backend()),
        )
    return DistributedRun()


def setup(
    options: DistributedOptions | Mapping[str, Any] | None = None, device: str = "auto"
) -> DistributedRun:
    """Join the process group ``torchrun`` describes in the environment, once.

    A no-op (returns the current state) when the group exists already or when
    the process was not launched for several processes.
    """
    if not isinstance(options, DistributedOptions):
        options = DistributedOptions.from_mapping(options)
    if not launched() or (dist.is_available() and dist.is_initialized()):
        return current()
    if not dist.is_available():
        raise TrainingSetupError(
            "this PyTorch build has no torch.distributed; install a build that has it "
            "(the PyPI wheels do) or run one process"
        )
    rank, world = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    backend = options.backend
    wants_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if backend == "auto":
        backend = "nccl" if wants_cuda else "gloo"
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise TrainingSetupError(
                "[train.distributed] backend = 'nccl' needs CUDA GPUs, and this machine has "
                "none that PyTorch can use; use backend = 'gloo' (or 'auto') to train on CPU"
            )
        if local_rank >= torch.cuda.device_count():
            raise TrainingSetupError(
                f"process LOCAL_RANK={local_rank} has no GPU: this machine has "
                f"{torch.cuda.device_count()}; start at most that many processes per node "
                "(torchrun --nproc_per_node)"
            )
        torch.cuda.set_device(local_rank)
    port = os.environ.get("MASTER_PORT", "?")
    try:
        dist.init_process_group(
            backend,
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=float(options.timeout)),
        )
    except (RuntimeError, ValueError) as exc:  # DistNetworkError/DistStoreError are RuntimeErrors
        text = str(exc)
        if "EADDRINUSE" in text or "address already in use" in text.lower():
            raise TrainingSetupError(
                f"port {port} is in use (another run or program listens on it): pass "
                "--master_port with a free port to torchrun, or use --standalone"
            ) from exc
        if "MASTER_ADDR" in text or "MASTER_PORT" in text:
            raise TrainingSetupError(
                f"WORLD_SIZE={world} asks for several processes but {text.strip()}; "
                "launch with torchrun, which sets every variable"
            ) from exc
        raise
    global _STALL_GROUP, _STALL_TIMEOUT
    # A gloo group of its own (CPU, also under NCCL): monitored_barrier names the missing ranks.
    _STALL_TIMEOUT = float(options.stall_timeout)
    _STALL_GROUP = dist.new_group(
        backend="gloo", timeout=datetime.timedelta(seconds=_STALL_TIMEOUT)
    )
    return current()


_STALL_GROUP: Any = None
_STALL_TIMEOUT = 300.0


class PeerStalledError(GstError, RuntimeError):
    """A process of a distributed run did not reach the per-step check-in in time."""


def check_in(step: int) -> None:
    """Every process waits here for the others once per step (a barrier on the stall group
    with ``stall_timeout``); one that does not arrive is named, instead of the step's own
    collectives waiting ``timeout`` (30 minutes by default) and failing with gloo's text."""
    if _STALL_GROUP is None or not current().enabled:
        return
    try:
        dist.monitored_barrier(
            group=_STALL_GROUP,
            timeout=datetime.timedelta(seconds=_STALL_TIMEOUT),
            wait_all_ranks=True,
        )
    except RuntimeError as exc:
        found = re.search(r"[Rr]anks? ([\d, ]+) failed to pass", str(exc))
        who = f"rank(s) {found.group(1).strip()}" if found else "rank 0"
        raise PeerStalledError(
            f"{who} of this run did not reach step {step} within {_STALL_TIMEOUT:g} s of the "
            "others (a hung data loader or file system, a stopped or overloaded process); "
            "look at that process, or raise [train.distributed] stall_timeout if a step can "
            "legitimately take longer"
        ) from exc


def timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective's timeout in a distributed run."""
    text = str(exc).lower()
    return current().enabled and isinstance(exc, RuntimeError) and "timed out" in text


def teardown() -> None:
    """Leave the process group (so a failing process does not leave the others waiting)."""
    global _STALL_GROUP
    _STALL_GROUP = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def should_report(exc: BaseException) -> bool:
    """Whether this process prints ``exc``: rank 0 always; another rank only for an error of
    its own (``exc.rank_local``), so an error every rank meets is shown once."""
    # Before the trainer joins the group (a config error), torchrun's RANK says who is rank 0.
    initialized = dist.is_available() and dist.is_initialized()
    is_main = current().is_main if initialized else _env_int("RANK", 0) == 0
    return is_main or bool(getattr(exc, "rank_local", False))


# -- reductions ------------------------------------------------------------------------


def all_reduce(tensor: Tensor, op: str = "sum") -> Tensor:
    """``tensor`` reduced over every process (``"sum"``, ``"mean"``, ``"min"``, ``"max"``), in
    place and returned. Every process must call it; a no-op outside a distributed run. Under
    NCCL the tensor must be on this process's GPU (``trainer.device``)."""
    run = current()
    if not run.enabled:
        return tensor
    ops = {"sum": dist.ReduceOp.SUM, "mean": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN}
    ops["max"] = dist.ReduceOp.MAX
    if op not in ops:
        raise ValueError(f"op must be one of {', '.join(ops)}, got {op!r}")
    dist.all_reduce(tensor, op=ops[op])
    if op == "mean":
        tensor /= run.world_size
    return tensor


def all_gather(tensor: Tensor) -> list[Tensor]:
    """Every process's ``tensor``, in rank order. The first dimension may differ between
    processes (e.g. feature rows of uneven shards); the others must agree. Float64 stays
    float64, so exact accumulators (FID's sums) merge exactly."""
    run = current()
    if not run.enabled:
        return [tensor]
    size = torch.tensor([tensor.shape[0] if tensor.dim() else 1], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(run.world_size)]
    dist.all_gather(sizes, size)
    flat = tensor.reshape(-1, *tensor.shape[1:]) if tensor.dim() else tensor.reshape(1)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *flat.shape[1:]), dtype=flat.dtype, device=flat.device)
    padded[: flat.shape[0]] = flat
    parts = [torch.empty_like(padded) for _ in range(run.world_size)]
    dist.all_gather(parts, padded)
    gathered = [part[: int(s.item())] for part, s in zip(parts, sizes, strict=True)]
    return gathered if tensor.dim() else [g.reshape(()) for g in gathered]


def all_true(flag: bool | Tensor, device: torch.device | None = None) -> bool:
    """Whether ``flag`` holds on every process (one tiny all-reduce)."""
    run = current()
    if isinstance(flag, Tensor):
        device = flag.device
        flag = bool(flag.all())
    if not run.enabled:
        return bool(flag)
    if device is None and run.backend == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())  # NCCL reduces CUDA tensors
    t = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


def mean_over_processes(values: Mapping[str, float], device: torch.device) -> dict[str, float]:
    """Logged metrics averaged over processes (each is a mean over its share of the batch, so
    the average is the global batch's mean). Every process runs the same objective code, so
    the keys come in the same order everywhere."""
    run = current()
    if not run.enabled or not values:
        return dict(values)
    keys = list(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    all_reduce(t, "mean")
    return {k: float(v) for k, v in zip(keys, t.tolist(), strict=True)}


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every process (e.g. the run folder's name)."""
    if not current().enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextlib.contextmanager
def data_rng(seed: int, batch: int) -> Iterator[None]:
    """Under torchrun, run the data loading of global batch ``batch`` with the global RNG
    seeded from ``(seed, batch, rank)`` and restored afterwards.

    Datasets draw random crops, flips and unpaired partners per item from the global RNG.
    With every process's RNG in step, each would draw the same numbers for its share (rank 1
    would flip exactly the items rank 0 flips, and CycleGAN's unpaired data would pair both
    shares with the same B images). Seeding per process and batch makes the shares differ,
    keeps the draws reproducible on resume with the same process count, and leaves the
    global RNG, and so the latents, in step. DataLoader workers get their seeds from this
    RNG too. Outside a distributed run nothing changes.
    """
    run = current()
    if not run.enabled:
        yield
        return
    key = hashlib.sha256(f"gst-data/{seed}/{batch}/{run.rank}".encode()).digest()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int.from_bytes(key[:8], "little") >> 1)
        yield


def rank_tag() -> str:
    """`` (rank 1 of 2)`` for a message from a process other than rank 0; else empty."""
    run = current()
    return f" (rank {run.rank} of {run.world_size})" if run.enabled and not run.is_main else ""


# What gloo and NCCL say when the process at the other end of a collective went away.
_PEER_GONE = ("closed by peer", "reset by peer", "broken pipe", "communicator was aborted")


def peer_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another process stopped (whose own
    message says why), in a distributed run."""
    if not current().enabled:
        return False
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in _PEER_GONE)
