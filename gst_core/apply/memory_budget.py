"""How much memory a generator's forward pass needs per pixel, and how much there is.

The tiled apply path (:mod:`gst_core.apply.tiling`) tiles an image only when
the whole image would not fit the budget. The need is measured, not guessed:
one forward pass on a small probe image, with a hook on every module that
adds up the activations alive at that moment (dead ones are noticed through
weak references), gives the peak live activation bytes per input pixel. It is
linear in the pixel count for convolutional networks, and cached per network.
"""

from __future__ import annotations

import re
import weakref

import torch
from torch import Tensor, nn

from gst_core.errors import GstError
from gst_core.pipelines.memory import available_memory_bytes

__all__ = [
    "MemoryOptionError",
    "activation_bytes_per_pixel",
    "default_budget",
    "parse_memory",
]

#: Temporaries inside a module (convolution workspaces, padding copies, norm
#: intermediates) are not module outputs; this margin covers them (the probe
#: and the peak RSS of whole runs are compared in benchmarks/apply/bench_tiling.py).
SAFETY = 1.5
#: On CPU the default budget is half the available memory, at most this: large
#: enough that tiles are big (tiling overhead small), small enough that a 24 MP
#: photo stays well inside a laptop's memory.
CPU_DEFAULT_CAP = 1 << 30

_cache: weakref.WeakKeyDictionary[nn.Module, dict[tuple, float]] = weakref.WeakKeyDictionary()


class MemoryOptionError(GstError, ValueError):
    """A memory size the user gave cannot be read (``--max-memory``)."""


def parse_memory(value: str | int | float | None) -> int | None:
    """Bytes from ``"2G"``, ``"512M"``, ``"1.5GiB"``, ``1e9``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise MemoryOptionError(f"max memory must be positive, got {value!r}")
        return int(value)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", str(value), re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise MemoryOptionError(
            f"cannot read {value!r} as a memory size; write e.g. 2G, 512M or 1500000000"
        )
    scale = 1024 ** "kmgt".index(match.group(2).lower()) * 1024 if match.group(2) else 1
    return int(float(match.group(1)) * scale)


def default_budget(device: torch.device) -> int:
    """Activation memory one forward pass may use: on CUDA 70% of the free GPU memory
    (speed matters there, and the allocator reports exactly); on CPU half the available
    memory, at most :data:`CPU_DEFAULT_CAP`."""
    available = available_memory_bytes(str(device))
    if device.type == "cuda":
        return int(available * 0.7)
    return min((available or 4 << 30) // 2, CPU_DEFAULT_CAP)


@torch.no_grad()
def activation_bytes_per_pixel(generator: nn.Module, channels: int, device: torch.device) -> float:
    """Peak bytes of live activations per input pixel of one forward pass (× :data:`SAFETY`)."""
    key = (channels, str(device))
    cached = _cache.get(generator, {})
    if key in cached:
        return cached[key]
    multiple = int(getattr(generator, "size_multiple", 1) or 1)
    side = max(64, multiple)
    probe = torch.zeros(1, channels, side, side, device=device)
    live: dict[int, tuple[weakref.ref, int]] = {}
    peak = probe.numel() * probe.element_size()

    def hook(module: nn.Module, inputs, output) -> None:
        nonlocal peak
        for t in output if isinstance(output, tuple | list) else (output,):
            if isinstance(t, Tensor):
                storage = t.untyped_storage()
                live[storage.data_ptr()] = (weakref.ref(t), storage.nbytes())
        for ptr in [p for p, (ref, _) in live.items() if ref() is None]:
            del live[ptr]
        peak = max(peak, probe.numel() * probe.element_size() + sum(n for _, n in live.values()))

    handles = [m.register_forward_hook(hook) for m in generator.modules()]
    was_training = generator.training
    try:
        generator.eval()
        generator(probe)
    finally:
        for h in handles:
            h.remove()
        generator.train(was_training)
    value = peak * SAFETY / (side * side)
    _cache.setdefault(generator, {})[key] = value
    return value
