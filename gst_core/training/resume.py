"""What resuming a run with other settings does: apply them, refuse them, or say so.

A restored optimiser carries its old hyper-parameters in its state, which
would silently override ``--lr``; here the run's configured values are put
back, so the checkpoint's record always matches what ran. Another optimiser
class cannot take the old state at all: that is refused before anything is
written. Other changed settings (loss, batch size, seed, ...) are allowed
but named, old → new.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from gst_core.checkpoint import CheckpointError

__all__ = [
    "ResumeSettingsWarning",
    "apply_optimizer_settings",
    "changed_settings",
    "check_optimizer_classes",
]


class ResumeSettingsWarning(UserWarning):
    """A run was resumed with settings other than those it was trained with."""


# [train] options that a resumed run is expected to change (more steps, another folder...).
_EXPECTED_TO_CHANGE = {
    "steps",
    "run_dir",
    "progress",
    "log_every",
    "sample_every",
    "sample_count",
    "checkpoint_every",
    "num_workers",
    "tensorboard",
    "device",
    "compile",
}


def _group_settings(train: Mapping[str, Any], group: str) -> dict[str, Any]:
    return {**train.get("optimizer", {}), **train.get("optimizers", {}).get(group, {})}


def check_optimizer_classes(
    saved_train: Mapping[str, Any] | None, train: Mapping[str, Any], groups: list[str], where: str
) -> None:
    """Refuse a resume whose optimiser classes differ from the checkpoint's."""
    if not saved_train:
        return  # a checkpoint that does not record them: load_state_dict's own checks apply
    for group in groups:
        was = _group_settings(saved_train, group).get("name", "Adam")
        now = _group_settings(train, group).get("name", "Adam")
        if was != now:
            raise CheckpointError(
                f"{where} was trained with the {was} optimizer for {group!r}, but this run "
                f"builds {now}; its state cannot carry over. Resume with name = {was!r} in "
                "[train.optimizer], or start a new run folder"
            )


def apply_optimizer_settings(
    optimizers: Mapping[str, torch.optim.Optimizer],
    saved_train: Mapping[str, Any] | None,
    train: Mapping[str, Any],
) -> None:
    """Put the hyper-parameters (lr, betas, ...) this run configures differently from the
    checkpoint's into the restored optimisers. Unchanged ones are left alone, so a learning
    rate a schedule has moved is not reset."""
    for group, optimizer in optimizers.items():
        was = _group_settings(saved_train or {}, group)
        settings = {
            k: v
            for k, v in _group_settings(train, group).items()
            if k != "name" and (saved_train is None or was.get(k) != v)
        }
        if "betas" in settings:
            settings["betas"] = tuple(settings["betas"])
        for param_group in optimizer.param_groups:
            if "lr" in settings and "initial_lr" in param_group:
                param_group["initial_lr"] = settings["lr"]  # what LR schedules scale
            param_group.update(settings)


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, list(value) if isinstance(value, tuple) else value


def changed_settings(saved_spec: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """``"loss.name: 'hinge' → 'wasserstein'"`` for each setting that differs."""
    was, now = dict(_leaves(saved_spec)), dict(_leaves(spec))
    changes = []
    for key in sorted(set(was) | set(now)):
        section, _, option = key.partition(".")
        if section == "train" and option in _EXPECTED_TO_CHANGE:
            continue
        if was.get(key, "unset") != now.get(key, "unset"):
            changes.append(f"{key}: {was.get(key, 'unset')!r} → {now.get(key, 'unset')!r}")
    return changes
