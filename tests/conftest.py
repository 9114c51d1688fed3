"""Shared test set-up.

Triton's interpreter must be chosen before the first ``import triton`` in the
process, so it is set here, before any test module imports gst_kernels.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
