"""A guard against images too large for the memory: fail early with the size that fits.

Image optimisation keeps every activation of the extractor for the backward
pass, so memory grows with the pixel count. Running out of memory on a CPU
means swapping or the kernel's OOM killer, not a Python exception, so the size
is checked before the first step instead.
"""

from __future__ import annotations

import math
import os

from gst_core.errors import GstError

__all__ = ["ImageTooLargeError", "available_memory_bytes", "check_fits"]

# Head-room over the extractors' activation estimates for the L-BFGS history, the
# image copies and allocator slack. Measured (CPU, ru_maxrss): VGG19 to conv3_1 at
# 1024² estimates 2496 B/pixel, and the run's peak minus the process's baseline was
# 2376 B/pixel, so 1.5× errs on the side of refusing.
SAFETY_FACTOR = 1.5


class ImageTooLargeError(GstError, MemoryError):
    """The image needs more memory than the device has."""


def available_memory_bytes(device: str = "cpu") -> int | None:
    """Free memory of ``device``: MemAvailable on Linux, free CUDA memory on a GPU."""
    if str(device).startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(
    height: int, width: int, bytes_per_pixel: float, budget: int | None, *, what: str = "image"
) -> None:
    """Raise :class:`ImageTooLargeError` naming the largest size that fits ``budget`` bytes."""
    if budget is None or bytes_per_pixel <= 0:
        return
    need = height * width * bytes_per_pixel * SAFETY_FACTOR
    if need <= budget:
        return
    shrink = math.sqrt(budget / need)
    fits = int(max(height, width) * shrink) // 8 * 8
    raise ImageTooLargeError(
        f"the {what} is {width}×{height} pixels, which needs about {need / 2**30:.1f} GiB for "
        f"the optimisation, more than the {budget / 2**30:.1f} GiB available; use a longer side "
        f"of at most {fits} pixels (--size {fits}), fewer or shallower layers, or another device"
    )
