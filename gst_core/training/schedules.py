"""Learning-rate schedules every objective can use: ``[train] lr_schedule = {name = ...}``.

Each schedule is a factor of the optimiser's configured learning rate, a pure
function of the number of updates done (``step``) and the run's total
``steps``; torch's :class:`~torch.optim.lr_scheduler.LambdaLR` applies it,
and its state goes into checkpoints.

* ``constant`` (default): factor 1.
* ``linear``: 1 for the first ``steps - decay_steps`` steps, then linearly down
  to 0 at ``steps``. ``decay_epochs = D`` is the pix2pix/CycleGAN schedule in
  the reference's own formula: the factor is constant within an epoch and,
  for epoch ``e`` (0-based) of ``E``, ``1 − max(0, e + 1 − (E − D)) / (D + 1)``
  (``n_epochs = E − D`` constant, then ``n_epochs_decay = D``; the last epoch
  runs at ``1 / (D + 1)``). With neither option the decay is half the run:
  ``decay_epochs = E // 2`` when the run is given in epochs, else
  ``decay_steps = steps // 2``.
* ``step``: multiplied by ``gamma`` (0.1) every ``step_size`` steps.
* ``cosine``: half a cosine from 1 down to ``min_factor`` (0) over the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.optim.lr_scheduler import LambdaLR

from gst_core.errors import TrainingSetupError

__all__ = ["SCHEDULES", "build_scheduler", "lr_factor", "schedule_factor"]

#: Schedule name → its options and their defaults (None: computed from the run).
SCHEDULES: dict[str, dict[str, Any]] = {
    "constant": {},
    "linear": {"decay_steps": None, "decay_epochs": None},
    "step": {"step_size": None, "gamma": 0.1},
    "cosine": {"min_factor": 0.0},
}


def _spec(spec: str | Mapping[str, Any] | None, source: str) -> tuple[str, dict[str, Any]]:
    if spec is None:
        return "constant", {}
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise TrainingSetupError(
            f"{source}: lr_schedule must be a name or a table with a name, e.g. "
            f'lr_schedule = {{name = "linear", decay_steps = 500}}; got {spec!r}'
        )
    options = dict(spec)
    name = options.pop("name")
    if name not in SCHEDULES:
        raise TrainingSetupError(
            f"{source}: unknown lr_schedule {name!r}; choose one of {', '.join(SCHEDULES)}"
        )
    unknown = sorted(set(options) - set(SCHEDULES[name]))
    if unknown:
        allowed = ", ".join(SCHEDULES[name]) or "no options"
        raise TrainingSetupError(
            f"{source}: the {name} lr_schedule has no option {', '.join(unknown)} "
            f"(it takes {allowed})"
        )
    return name, {**SCHEDULES[name], **options}


def schedule_factor(
    spec: str | Mapping[str, Any] | None,
    total_steps: int,
    *,
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
    source: str = "[train]",
) -> Callable[[int], float]:
    """The factor ``f(step)`` of a schedule spec, checked; ``step`` counts updates done.

    ``steps_per_epoch`` (known once the data is) is what epoch-based options need;
    ``epochs`` is set when the run itself was given in epochs."""
    name, o = _spec(spec, source)

    def positive_int(key: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise TrainingSetupError(
                f"{source}: lr_schedule {name}: {key} must be a positive integer, got {value!r}"
            )
        return value

    if name == "constant":
        return lambda step: 1.0
    if name == "linear" and o["decay_epochs"] is not None and o["decay_steps"] is not None:
        raise TrainingSetupError(
            f"{source}: lr_schedule linear takes decay_steps or decay_epochs, not both"
        )
    in_epochs = o.get("decay_epochs") is not None or (epochs and o.get("decay_steps") is None)
    if name == "linear" and in_epochs:
        return _linear_epochs(o["decay_epochs"], total_steps, steps_per_epoch, epochs, source)
    if name == "linear":
        decay = positive_int(
            "decay_steps",
            max(1, total_steps // 2) if o["decay_steps"] is None else o["decay_steps"],
        )
        return lambda step: max(0.0, min(1.0, (total_steps - step) / decay))
    if name == "step":
        size = positive_int(
            "step_size", max(1, total_steps // 3) if o["step_size"] is None else o["step_size"]
        )
        gamma = float(o["gamma"])
        if not gamma > 0:
            raise TrainingSetupError(f"{source}: lr_schedule step: gamma must be > 0")
        return lambda step: gamma ** (step // size)
    low = float(o["min_factor"])
    if not 0.0 <= low <= 1.0:
        raise TrainingSetupError(f"{source}: lr_schedule cosine: min_factor must lie in [0, 1]")
    return lambda step: (
        low + (1 - low) * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))
    )


def _linear_epochs(
    decay: Any, total_steps: int, per_epoch: int | None, epochs: int | None, source: str
) -> Callable[[int], float]:
    """The reference's linear rule (``get_scheduler``, lr_policy ``linear``), stepped at the
    end of every epoch as its train.py does."""
    if per_epoch is None:
        # Checked again by the trainer once the data (hence the epoch length) is known.
        per_epoch = 1
    total_epochs = epochs or -(-total_steps // per_epoch)
    if decay is None:
        decay = max(1, total_epochs // 2)
    if not isinstance(decay, int) or isinstance(decay, bool) or decay < 1:
        raise TrainingSetupError(
            f"{source}: lr_schedule linear: decay_epochs must be a positive integer, got {decay!r}"
        )
    if epochs is not None and decay > epochs:
        raise TrainingSetupError(
            f"{source}: lr_schedule linear: decay_epochs = {decay} is more than the run's "
            f"{epochs} epochs; the rate would start below its base. Use decay_epochs <= {epochs}"
            " (the reference: half the epochs)"
        )
    constant = total_epochs - decay

    def factor(step: int) -> float:
        epoch = step // per_epoch
        return max(0.0, 1.0 - max(0, epoch + 1 - constant) / float(decay + 1))

    return factor


def lr_factor(
    spec: str | Mapping[str, Any] | None,
    total_steps: int,
    step: int,
    *,
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
) -> float:
    """The factor applied to the configured learning rate during update ``step + 1``."""
    return schedule_factor(spec, total_steps, steps_per_epoch=steps_per_epoch, epochs=epochs)(step)


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    spec: str | Mapping[str, Any] | None,
    total_steps: int,
    *,
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
    source: str = "[train]",
) -> LambdaLR:
    """A :class:`LambdaLR` that the trainer steps once after each of the optimiser's steps."""
    factor = schedule_factor(
        spec, total_steps, steps_per_epoch=steps_per_epoch, epochs=epochs, source=source
    )
    return LambdaLR(optimizer, factor)


def fast_forward(scheduler: LambdaLR, step: int) -> None:
    """Put ``scheduler`` at ``step`` updates done (a checkpoint that saved no schedule state)."""
    scheduler.last_epoch = step
    for group, base, factor in zip(
        scheduler.optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True
    ):
        group["lr"] = base * factor(step)
    scheduler._last_lr = [g["lr"] for g in scheduler.optimizer.param_groups]
