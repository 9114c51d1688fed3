"""Kernel tests run Triton's CPU interpreter when there is no GPU.

Triton reads TRITON_INTERPRET when a kernel is decorated, i.e. when
gst_kernels.triton_impl is first imported; set it here, before any test
module imports it. On a CUDA machine the real kernels run instead.
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
