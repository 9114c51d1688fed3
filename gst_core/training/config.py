"""The options of a training run (the ``[train]`` section of a config)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gst_core.errors import TrainingSetupError

__all__ = ["TrainConfig"]


def _adam() -> dict[str, Any]:
    # The DCGAN paper's settings: Adam, lr 2e-4, beta1 0.5.
    return {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]}


@dataclass
class TrainConfig:
    """Every option of :class:`~gst_core.training.trainer.Trainer`, with its default."""

    steps: int = 1000  # total steps (generator updates); a resumed run continues up to this
    batch_size: int = 64
    optimizer: dict[str, Any] = field(default_factory=_adam)  # for every optimiser ...
    optimizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # ... then per name
    ema_decay: float = 0.0  # 0 turns the EMA off; 0.999 is typical
    ema_start: int = 0  # steps before the EMA starts (it then copies the weights)
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when available
    amp: bool | None = None  # mixed precision; None: on for CUDA, off elsewhere
    num_workers: int = 0  # DataLoader worker processes
    log_every: int = 10
    sample_every: int = 500  # 0: only at the end
    sample_count: int = 64
    checkpoint_every: int = 1000  # 0: only at the end
    run_dir: str | None = None  # None: nothing is written
    progress: bool = True
    tensorboard: bool = False

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any], *, source: str = "[train]") -> TrainConfig:
        """Build from a dict (a TOML ``[train]`` table), naming unknown keys and close matches."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in options:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TrainingSetupError(
                    f"{source}: unknown option {key!r}{hint} (options: {', '.join(sorted(known))})"
                )
        config = cls(**options)
        config.validate(source)
        return config

    def validate(self, source: str = "[train]") -> None:
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise TrainingSetupError(
                    f"{source}: {name} must be a positive integer, got {value!r}"
                )
        for name in ("log_every", "sample_every", "checkpoint_every", "ema_start", "num_workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise TrainingSetupError(f"{source}: {name} must be an integer >= 0, got {value!r}")
        if not 0.0 <= float(self.ema_decay) < 1.0:
            raise TrainingSetupError(
                f"{source}: ema_decay must lie in [0, 1) (0 turns it off), got {self.ema_decay!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
