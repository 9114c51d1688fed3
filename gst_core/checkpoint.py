"""Checkpoint files: written atomically, read with ``weights_only=True``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so
``torch.load(weights_only=True)`` can read it without unpickling arbitrary
objects (a checkpoint from the internet cannot run code). Writing goes to a
temporary file in the same folder, is flushed to disk, and then replaces
the target with ``os.replace``, which is atomic on POSIX and Windows: a kill
mid-write leaves the previous checkpoint intact.

Two checks keep a bad checkpoint from being used silently. A checkpoint never
holds NaN or infinity (writing one is refused, reading one made by an older
gst or by hand is refused). And torch does not verify the CRC-32 that its zip
container stores for every record, so reading does: bytes damaged after the
write (disk, copy) are found before they become weights. Measured on the
shared 2-core CPU, one thread (benchmarks/reliability/bench_checkpoint_checks.py,
results/checkpoint_checks_cpu.json): for 40 MB the CRC pass takes 0.022 s and
the finite check 0.002 s beside 0.08 s for ``torch.load``; for 400 MB 0.29 s
and 0.06 s beside 0.77 s.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from gst_core.atomic_file import atomic_write
from gst_core.errors import GstError
from gst_core.finite import nonfinite_in_state

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "load_checkpoint",
    "load_network",
    "network_spec",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "gst.training/1"


class CheckpointError(GstError, ValueError):
    """A checkpoint is missing, corrupt, from another program, or does not fit the model."""


def save_checkpoint(state: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``state`` (tagged with :data:`CHECKPOINT_FORMAT`) to ``path`` atomically."""
    path = Path(path)
    bad = nonfinite_in_state(state)
    if bad:
        raise CheckpointError(
            f"refusing to write checkpoint {str(path)!r}: it would hold non-finite values "
            f"(NaN or infinity) in {_first_few(bad)}; the previous checkpoint is untouched. "
            "Lower the learning rate, add a penalty (r1, gradient_penalty) or spectral_norm"
        )
    with atomic_write(path) as f:
        recording = _WriteErrors(f)
        try:
            torch.save({"format": CHECKPOINT_FORMAT, **state}, recording)
        except RuntimeError as exc:
            # torch's zip writer turns the OSError of a failed write (a full disk) into
            # "enforce fail at inline_container.cc ... unexpected pos"; raise the OSError
            # itself, which atomic_write reports as a FileWriteError.
            if recording.error is not None:
                raise recording.error from exc
            raise
    return path


class _WriteErrors:
    """A binary file that remembers the OSError its ``write`` raised."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self.file.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self.file.flush()


def _first_few(names: list[str], count: int = 3) -> str:
    return ", ".join(names[:count]) + (
        f" and {len(names) - count} more" if len(names) > count else ""
    )


def _check_integrity(path: Path) -> None:
    """Compare every zip record with its stored CRC-32 (torch.load does not)."""
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        # zlib/struct errors from a damaged header end up here too.
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or not a torch checkpoint "
            f"({type(exc).__name__}: {exc}); use an earlier checkpoint or start a new run"
        ) from exc
    if damaged is not None:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged: its record {damaged!r} does not match the "
            "checksum written with it (a disk or copy error after it was saved); use an "
            "earlier checkpoint or a good copy, or start a new run"
        )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, refusing anything else clearly."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "checkpoints" / "last.pt"
        if not candidate.is_file():
            raise CheckpointError(
                f"{str(path)!r} is a folder without checkpoints/last.pt; pass a checkpoint file "
                "or a run folder that has saved one"
            )
        path = candidate
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if zipfile.is_zipfile(path):  # else torch.load explains what the file is not
        _check_integrity(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, OSError) as exc:
        # torch's first sentence only: the rest of its UnpicklingError text advises
        # weights_only=False, which is wrong advice for a damaged file.
        reason = str(exc).split(". ")[0].splitlines()[0] if str(exc) else ""
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or not a torch checkpoint "
            f"({type(exc).__name__}: {reason}); "
            "use an earlier checkpoint or start a new run"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{str(path)!r} is not a gst training checkpoint (format {found!r}, expected "
            f"{CHECKPOINT_FORMAT!r}); it was not written by gst's trainer"
        )
    bad = nonfinite_in_state(state)
    if bad:
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds non-finite values (NaN or infinity) in "
            f"{_first_few(bad)}; it cannot be sampled from or resumed (an older gst could "
            "write such a file after a diverged update). Use an earlier checkpoint or start a "
            "new run with a lower learning rate"
        )
    state["path"] = str(path)
    return state


def network_spec(state: Mapping[str, Any], name: str) -> dict[str, Any]:
    """How network ``name`` of a checkpoint was built: ``{"kind": ..., "name": ..., **kwargs}``.

    Checkpoints record it under ``network_specs``; those written before gst 0.2
    did not, and there the config section named like the network (``[generator]``)
    is the spec.
    """
    where = state.get("path", "the checkpoint")
    networks = sorted(state.get("networks", {}))
    if name not in networks:
        raise CheckpointError(
            f"{where} has no network {name!r}; it holds {', '.join(networks) or 'none'}"
        )
    spec = state.get("network_specs", {}).get(name)
    if spec is None:
        section = state.get("spec", {}).get(name)
        if not isinstance(section, Mapping) or "name" not in section:
            raise CheckpointError(
                f"{where} does not record how its {name} was built (no network_specs entry "
                f"and no [{name}] section in its config); build it yourself and load "
                f"state['networks'][{name!r}] into it"
            )
        spec = {"kind": name, **section}
    return dict(spec)


def load_network(
    checkpoint: str | Path | Mapping[str, Any],
    name: str = "generator",
    *,
    ema: bool = True,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Network ``name`` of a training checkpoint, rebuilt from its spec, in eval mode.

    ``checkpoint`` is a file, a run folder or a state already read by
    :func:`load_checkpoint`. ``ema=True`` takes the EMA weights where the run kept
    them, else the raw ones.
    """
    from gst_core.kinds import registry

    state = (
        checkpoint
        if isinstance(checkpoint, Mapping)
        else load_checkpoint(checkpoint, map_location=device)
    )
    spec = network_spec(state, name)
    kind = spec.pop("kind")
    weights = state["networks"][name]
    if ema and name in state.get("ema", {}):
        prefix = "module."  # torch.optim.swa_utils.AveragedModel keeps the copy under .module
        weights = {
            k[len(prefix) :]: v for k, v in state["ema"][name].items() if k.startswith(prefix)
        }
    network = _build_on_meta(registry(kind), spec, weights)
    if network is None:  # a network that cannot be built without memory: the plain way
        network = registry(kind).build(spec)
        try:
            network.load_state_dict(weights)
        except RuntimeError as exc:
            raise CheckpointError(
                f"{state.get('path', 'the checkpoint')}: the saved {name} weights do not fit "
                f"{kind} {spec!r}: {exc}"
            ) from exc
    return network.to(device).eval()


class _NoInitOnMeta(TorchFunctionMode):
    """In-place ops on meta tensors (``normal_``, ``uniform_``, ``zero_``: the init) do
    nothing: there is nothing to fill. Without this, torch runs them through its Python
    reference ops, whose first call imports torch._dynamo (2-4 s, more than the init)."""

    KEEP = frozenset({"resize_", "set_", "as_strided_", "requires_grad_", "share_memory_"})

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        # torch.nn.init.normal_(tensor=...) passes the tensor by keyword, Tensor.normal_ first.
        target = args[0] if args else kwargs.get("tensor")
        if (
            name.endswith("_")
            and not name.startswith("_")
            and name not in self.KEEP
            and isinstance(target, torch.Tensor)
            and target.is_meta
        ):
            return target
        return func(*args, **kwargs)


def _build_on_meta(registry: Any, spec: Mapping[str, Any], weights: Mapping[str, Any]) -> Any:
    """The network built on the meta device and given the saved tensors themselves, or None.

    A normal build allocates every parameter and draws its random init, only for the
    checkpoint to overwrite it: for unet_256 (54M parameters) about a fifth of
    ``gst translate``'s start-up (benchmarks/startup). None when the build or the load does
    not work that way (a module that computes at construction, a tensor the state lacks):
    the caller then builds normally and reports any mismatch.
    """
    try:
        with torch.device("meta"), _NoInitOnMeta():
            network = registry.build(dict(spec))
        network.load_state_dict(weights, assign=True)
    except Exception:  # noqa: BLE001 - any failure here just means "build it the plain way"
        return None
    tensors = [*network.parameters(), *network.buffers()]
    if any(t.is_meta for t in tensors):  # a buffer the state dict does not hold
        return None
    return network
