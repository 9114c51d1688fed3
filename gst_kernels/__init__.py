"""Gram matrix and style loss: Triton kernels on the GPU, a plain-torch path everywhere else.

Importing this package never imports Triton; the Triton backend is loaded on
first use. See docs/kernels.md.
"""

from __future__ import annotations

from .backend import BackendUnavailableError, KernelDtypeError, KernelInputError
from .gram import gram
from .multi_style_loss import multi_style_loss
from .reference import gram_reference, style_loss_reference
from .style_loss import style_loss

__all__ = [
    "BackendUnavailableError",
    "KernelDtypeError",
    "KernelInputError",
    "gram",
    "gram_reference",
    "multi_style_loss",
    "style_loss",
    "style_loss_reference",
]
