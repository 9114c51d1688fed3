"""From a parsed config (TOML) to a ready :class:`Trainer` for a registered objective.

``gst train NAME`` looks ``NAME`` up in the objective registry; the objective
reads its own sections (:meth:`~gst_core.interfaces.Objective.from_config`).
The trainer's sections are ``[data]`` (a registered dataset: ``name`` plus its
options) and ``[train]`` (:class:`~gst_core.training.config.TrainConfig`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gst_core.errors import GstError, TrainingSetupError
from gst_core.interfaces import Objective
from gst_core.kinds import registry
from gst_core.training.config import TrainConfig
from gst_core.training.metric_callback import MetricCallback
from gst_core.training.rng import seed_everything
from gst_core.training.sections import ReadSections, check_sections_read
from gst_core.training.trainer import Trainer

__all__ = ["build_dataset", "build_objective", "build_trainer"]


def build_objective(name: str, config: Mapping[str, Any], *, source: str = "<config>") -> Objective:
    """The registered objective ``name``, built from ``config`` by its ``from_config``."""
    objectives = registry("objective")
    factory = objectives.get(name)
    from_config = getattr(factory, "from_config", None)
    if from_config is None:
        raise TrainingSetupError(
            f"objective {name!r} ({objectives.entry(name).source}) has no from_config "
            "classmethod, so `gst train` cannot build it from a config; see the Objective "
            "contract in gst_core/interfaces.py"
        )
    objective = from_config(config, source=source)
    if not isinstance(objective, Objective):
        raise TrainingSetupError(
            f"objective {name!r}: from_config returned {type(objective).__name__}, not an Objective"
        )
    # Checkpoints record the name `gst train` resumes with: the registry's.
    objective.name = name
    return objective


def build_dataset(spec: Any, *, source: str = "[data]") -> Any:
    """The registered dataset a ``[data]`` table names (``name = "folder"`` if only ``root``)."""
    if not isinstance(spec, Mapping):
        raise TrainingSetupError(f'{source} must be a table, e.g. name = "shapes"; got {spec!r}')
    spec = dict(spec)
    if "name" not in spec and "root" in spec:
        spec["name"] = "folder"
    if "name" not in spec:
        raise TrainingSetupError(
            f'{source} has no name; add name = "shapes" (built in), or name = "folder" and '
            'root = "path/to/images" for your own images (`gst plugins list --kind dataset` '
            "lists every dataset)"
        )
    try:
        return registry("dataset").build(spec)
    except GstError as exc:
        raise type(exc)(f"{source}: {exc}") from exc


def build_trainer(
    config: Mapping[str, Any],
    objective: str = "gan",
    *,
    source: str = "<config>",
    overrides: Mapping[str, Any] | None = None,
) -> Trainer:
    """Seed, then build the objective, data and trainer a config describes.

    ``overrides`` replace ``[train]`` options (command-line flags). Seeding
    comes first, so the same config always starts from the same weights.
    """
    train_options = {**dict(config.get("train", {})), **dict(overrides or {})}
    train = TrainConfig.from_mapping(train_options, source=f"{source}: [train]")
    seed_everything(train.seed)
    sections = ReadSections(config)
    built = build_objective(objective, sections, source=source)
    check_sections_read(sections, objective, source)
    if "data" not in config:
        raise TrainingSetupError(
            f'{source}: no [data] section; add one, e.g.\n  [data]\n  name = "shapes"   '
            '# or name = "folder", root = "path/to/images"'
        )
    dataset = build_dataset(config["data"], source=f"{source}: [data]")
    spec = {k: v for k, v in config.items() if k != "train"}
    metric = MetricCallback.from_config(train)  # FID/KID every fid_every steps, when asked
    return Trainer(
        built,
        dataset,
        train,
        callbacks=[metric] if metric is not None else [],
        spec={**spec, "train": train.as_dict()},
    )
