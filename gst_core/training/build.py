"""From a parsed config (TOML) to a ready :class:`Trainer` for an objective.

Sections: ``[generator]``, ``[discriminator]``, ``[loss]`` (one adversarial
loss, or ``[loss.<label>]`` tables: one adversarial loss plus penalties),
``[data]`` (see :func:`gst_core.data.build_dataset`), ``[objective]``
(options of the objective, e.g. ``n_critic``) and ``[train]``
(:class:`~gst_core.training.config.TrainConfig`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from gst_core.config import build_components
from gst_core.data import build_dataset
from gst_core.interfaces import AdversarialLoss, DiscriminatorPenalty
from gst_core.training.config import TrainConfig
from gst_core.training.errors import TrainingSetupError
from gst_core.training.gan import GANObjective
from gst_core.training.objective import Objective
from gst_core.training.rng import seed_everything
from gst_core.training.trainer import Trainer

__all__ = ["OBJECTIVES", "build_gan_objective", "build_trainer"]


def _require(built: Mapping[str, Any], kind: str, source: str, example: str) -> Any:
    if kind not in built:
        raise TrainingSetupError(
            f"{source}: no [{kind}] section; add one, e.g.\n  [{kind}]\n  {example}"
        )
    return built[kind]


def build_gan_objective(
    config: Mapping[str, Any], *, source: str = "<config>", options: Mapping[str, Any] = {}
) -> GANObjective:
    """The GAN objective from the ``[generator]``, ``[discriminator]`` and ``[loss]`` sections."""
    built = build_components(config, source=source)
    generator = _require(built, "generator", source, 'name = "dcgan"')
    discriminator = _require(built, "discriminator", source, 'name = "dcgan"')
    loss_section = _require(built, "loss", source, 'name = "non_saturating"')
    named: dict[str, nn.Module] = (
        {"loss": loss_section} if isinstance(loss_section, nn.Module) else dict(loss_section)
    )
    adversarial = [label for label, m in named.items() if isinstance(m, AdversarialLoss)]
    others = [
        label
        for label, m in named.items()
        if not isinstance(m, AdversarialLoss | DiscriminatorPenalty)
    ]
    if len(adversarial) != 1 or others:
        raise TrainingSetupError(
            f"{source}: [loss] must name exactly one adversarial loss (non_saturating, minimax, "
            "lsgan, hinge, wasserstein) plus any penalties (r1, gradient_penalty); got "
            + ", ".join(f"{label} = {type(m).__name__}" for label, m in named.items())
        )
    penalties = {label: m for label, m in named.items() if isinstance(m, DiscriminatorPenalty)}
    try:
        return GANObjective(generator, discriminator, named[adversarial[0]], penalties, **options)
    except TypeError as exc:
        raise TrainingSetupError(
            f"{source}: [objective]: {exc} (the gan objective takes n_critic, preview_seed)"
        ) from exc


#: ``gst train NAME`` → builder of that objective from a config.
OBJECTIVES: dict[str, Callable[..., Objective]] = {"gan": build_gan_objective}


def build_trainer(
    config: Mapping[str, Any],
    objective: str = "gan",
    *,
    source: str = "<config>",
    overrides: Mapping[str, Any] | None = None,
) -> Trainer:
    """Seed, build the networks, data and trainer a config describes.

    ``overrides`` replace ``[train]`` options (command-line flags). Seeding
    comes first, so the same config always starts from the same weights.
    """
    if objective not in OBJECTIVES:
        raise TrainingSetupError(
            f"unknown objective {objective!r}; objectives: {', '.join(OBJECTIVES)}"
        )
    train_options = {**dict(config.get("train", {})), **dict(overrides or {})}
    train = TrainConfig.from_mapping(train_options, source=f"{source}: [train]")
    seed_everything(train.seed)
    options = dict(config.get("objective", {}))
    options.pop("name", None)
    built_objective = OBJECTIVES[objective](config, source=source, options=options)
    if "data" not in config:
        raise TrainingSetupError(
            f'{source}: no [data] section; add one, e.g.\n  [data]\n  name = "shapes"   '
            '# or name = "folder", root = "path/to/images"'
        )
    dataset = build_dataset(config["data"], source=f"{source}: [data]")
    spec = {k: v for k, v in config.items() if k != "train"}
    return Trainer(built_objective, dataset, train, spec={**spec, "train": train.as_dict()})
