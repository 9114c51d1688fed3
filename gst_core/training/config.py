"""The options of a training run (the ``[train]`` section of a config)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gst_core.errors import TrainingSetupError
from gst_core.runtime.option_checks import check_option

__all__ = ["TrainConfig"]


def _adam() -> dict[str, Any]:
    # The DCGAN paper's settings: Adam, lr 2e-4, beta1 0.5.
    return {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]}


@dataclass
class TrainConfig:
    """Every option of :class:`~gst_core.training.trainer.Trainer`, with its default."""

    steps: int = 1000  # total steps (generator updates); a resumed run continues up to this
    # Or the run's length in epochs of the data (when set it decides steps: epochs times
    # len(data) // batch_size, the last partial batch of an epoch dropped).
    epochs: int | None = None
    batch_size: int = 64
    optimizer: dict[str, Any] = field(default_factory=_adam)  # for every optimiser ...
    optimizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # ... then per name
    # {name = "linear", decay_steps = N} | "cosine" | ...: see gst_core/training/schedules.py
    lr_schedule: Any = None  # None: constant
    ema_decay: float = 0.0  # 0 turns the EMA off; 0.999 is typical
    ema_start: int = 0  # steps before the EMA starts (it then copies the weights)
    seed: int = 0
    device: str = "auto"  # "auto": CUDA when available
    amp: bool | None = None  # mixed precision; None: on for CUDA, off elsewhere
    # torch.compile of every network's forward (and so its backward) for the steps; the
    # checkpoints are the same as an eager run's. Off by default: see gst_core/apply/compiled.py.
    compile: bool = False
    # DataLoader worker processes for data streamed from disk; None: min(4, CPU cores)
    num_workers: int | None = None
    log_every: int = 10
    sample_every: int = 500  # 0: only at the end
    sample_count: int = 64
    checkpoint_every: int = 1000  # 0: only at the end
    run_dir: str | None = None  # None: nothing is written
    progress: bool = True
    tensorboard: bool = False
    # Under torchrun: backend, sync_batchnorm, find_unused_parameters, timeout
    # (gst_core.training.distributed.DistributedOptions).
    distributed: dict[str, Any] = field(default_factory=dict)
    # FID/KID during training (gst_core.training.metric_callback.MetricCallback).
    fid_every: int = 0  # steps between measurements; 0: off
    fid_real: str | None = None  # folder of held-out real images
    fid_metrics: list[str] = field(default_factory=lambda: ["fid"])  # any of "fid", "kid", "prdc"
    fid_count: int = 1000  # generated samples per measurement
    fid_extractor: str = "fid_auto"  # a feature_extractor name
    best_metric: str = "fid"  # what checkpoints/best.pt minimises; "" for none

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
        for name, (kind, minimum) in _FIELD_CHECKS.items():
            optional = name in ("amp", "run_dir", "fid_real", "epochs", "num_workers")
            value = getattr(self, name)
            if value is None and optional:
                continue
            if kind == "an integer" and minimum == 1 and _is_bad_positive(value):
                raise TrainingSetupError(
                    f"{source}: {name} must be a positive integer, got {value!r}"
                )
            if kind == "an integer" and minimum == 0 and _is_bad_count(value):
                raise TrainingSetupError(f"{source}: {name} must be an integer >= 0, got {value!r}")
            check_option(value, kind, name, source=source, minimum=minimum, optional=optional)
        from gst_core.training.schedules import schedule_factor

        schedule_factor(self.lr_schedule, self.steps, epochs=self.epochs, source=source)
        if not 0.0 <= float(self.ema_decay) < 1.0:
            raise TrainingSetupError(
                f"{source}: ema_decay must lie in [0, 1) (0 turns it off), got {self.ema_decay!r}"
            )
        if not isinstance(self.optimizers, Mapping):
            raise TrainingSetupError(
                f"{source}: optimizers must be a table of per-group tables, e.g. "
                f"[train.optimizers.generator], got {self.optimizers!r}"
            )
        for where, settings in [
            ("optimizer", self.optimizer),
            *((f"optimizers.{k}", v) for k, v in self.optimizers.items()),
        ]:
            _check_optimizer_settings(settings, f"{source} {where}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Each [train] option's type and smallest value (None: no bound).
_FIELD_CHECKS: dict[str, tuple[str, float | None]] = {
    "steps": ("an integer", 1),
    "epochs": ("an integer", 1),
    "batch_size": ("an integer", 1),
    "ema_decay": ("a number", 0),
    "ema_start": ("an integer", 0),
    "seed": ("an integer", None),
    "device": ("a string", None),
    "amp": ("true or false", None),
    "compile": ("true or false", None),
    "num_workers": ("an integer", 0),
    "log_every": ("an integer", 0),
    "sample_every": ("an integer", 0),
    "sample_count": ("an integer", 1),
    "checkpoint_every": ("an integer", 0),
    "run_dir": ("a string", None),
    "progress": ("true or false", None),
    "tensorboard": ("true or false", None),
    "fid_every": ("an integer", 0),
    "fid_real": ("a string", None),
    "fid_count": ("an integer", 2),
    "fid_extractor": ("a string", None),
    "best_metric": ("a string", None),
}


def _is_bad_positive(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or value < 1


def _is_bad_count(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or value < 0


def _check_optimizer_settings(settings: Any, source: str) -> None:
    if not isinstance(settings, Mapping):
        raise TrainingSetupError(
            f'{source} must be a table, e.g. {{ name = "Adam", lr = 2e-4 }}; got {settings!r}'
        )
    check_option(settings.get("name", "Adam"), "a string", "name", source=source)
    if "lr" in settings:
        check_option(settings["lr"], "a number", "lr", source=source, minimum=0)
    if "betas" in settings:
        betas = settings["betas"]
        check_option(betas, "a list of numbers", "betas", source=source)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise TrainingSetupError(
                f"{source}: betas must be two numbers in [0, 1), e.g. [0.5, 0.999]; got {betas!r}"
            )
