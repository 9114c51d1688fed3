"""The options of a Gatys style transfer (``gst stylize`` flags, TOML ``[stylize]``), checked.

Everything about a run that is not a component lives in :class:`StylizeOptions`;
:meth:`StylizeOptions.validate` checks types first, since TOML values arrive
unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from gst_core.errors import GstError
from gst_core.runtime.option_checks import resolve_device

__all__ = ["StyleTransferError", "StylizeOptions"]


class StyleTransferError(GstError, ValueError):
    """Options or inputs of a style transfer are invalid."""


@dataclass
class StylizeOptions:
    """Everything about a run that is not a component. Field names match the CLI flags."""

    # Per pyramid level. L-BFGS: function evaluations (its line search may finish a few
    # over), Adam: updates.
    steps: int = 300
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    # Stop a level early once the loss has converged: when the best loss of the last
    # `window` evaluations improves on the best before them by less than `tolerance`
    # (relative). 0 runs every step. On a 256-px photo the loss flattens long before 300.
    tolerance: float = 1e-3
    window: int = 20
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (pixels are in [0, 1])
    # L-BFGS line search; None (or "none" in TOML) is the PyTorch tutorial's plain L-BFGS,
    # which clamps the pixels inside the closure instead.
    line_search: Literal["strong_wolfe", "none"] | None = "strong_wolfe"
    # None: the extractor's ``default_loss_weights``, else DEFAULT_LOSS_WEIGHTS.
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    style_blend_weights: Sequence[float] | None = None  # one per style; normalised to sum 1
    init: Literal["content", "noise", "style"] = "content"
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    style_scale: float = 1.0  # style's longer side relative to the content's
    preserve_color: Literal["luminance", "histogram"] | None = None
    seed: int = 0
    device: str = "cpu"
    save_every: int = 0  # write the image every N steps (needs save_path)
    save_path: str | Path | None = None  # intermediate files: <stem>_<step><suffix>
    progress: bool = True
    max_memory_bytes: int | None = None  # None: the memory free on the device

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "options") -> StylizeOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise StyleTransferError(
                f"{source}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    def validate(self) -> None:
        def bad(message: str) -> StyleTransferError:
            return StyleTransferError(message)

        # Types first: TOML values arrive unchecked, and a string or a bool would otherwise
        # escape as a raw TypeError below (or, for a bool, pass as 0 or 1).
        for name, kind in _OPTION_TYPES.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            allowed = (int,) if kind == "an integer" else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise bad(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise bad(f"tolerance must be a number >= 0 (0: no early stop), got {self.tolerance!r}")
        if self.window < 1:
            raise bad(f"window must be a positive integer, got {self.window!r}")
        if self.steps < 1:
            raise bad(f"steps must be a positive integer, got {self.steps!r}")
        resolve_device(self.device, what="device")
        if self.line_search == "none":
            self.line_search = None
        if self.line_search not in (None, "strong_wolfe"):
            raise bad(f"line_search must be 'strong_wolfe' or 'none', got {self.line_search!r}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise bad(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if value is None:
                continue
            if not math.isfinite(value) or value < 0:
                raise bad(f"{name} must be a finite number ≥ 0, got {value!r}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise bad(f"lr must be a positive number, got {self.lr!r}")
        if self.init not in ("content", "noise", "style"):
            raise bad(f"init must be 'content', 'noise' or 'style', got {self.init!r}")
        if not 1 <= self.scales <= 6:
            raise bad(f"scales must be an integer from 1 to 6, got {self.scales!r}")
        if not (math.isfinite(self.style_scale) and self.style_scale > 0):
            raise bad(f"style_scale must be a positive number, got {self.style_scale!r}")
        if self.preserve_color not in (None, "luminance", "histogram"):
            raise bad(
                "preserve_color must be 'luminance', 'histogram' or None, "
                f"got {self.preserve_color!r}"
            )
        if self.save_every < 0:
            raise bad(f"save_every must be ≥ 0, got {self.save_every!r}")
        if self.save_every and self.save_path is None:
            raise bad("save_every needs save_path (where to write the intermediate images)")
        if self.style_blend_weights is not None:
            w = list(self.style_blend_weights)
            if any(isinstance(x, bool) or not isinstance(x, int | float) for x in w):
                raise bad(f"style_blend_weights must be numbers, got {w!r}")
            if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
                raise bad(f"style_blend_weights must be finite, ≥ 0 and not all 0, got {w!r}")


# Numeric options and what validate() requires of their type.
_OPTION_TYPES = {
    "steps": "an integer",
    "tolerance": "a number",
    "window": "an integer",
    "lr": "a number",
    "content_weight": "a number",
    "style_weight": "a number",
    "tv_weight": "a number",
    "scales": "an integer",
    "style_scale": "a number",
    "seed": "an integer",
    "save_every": "an integer",
    "max_memory_bytes": "an integer",
}
_OPTIONAL = {"lr", "content_weight", "style_weight", "tv_weight", "max_memory_bytes"}
