"""gst's own path for each benchmark, through its public API only: the objective's
``train_step`` with a :class:`Trainer` as its step context (what ``gst train`` runs each step),
generators from the registry applied by ``apply_image_generator`` (what ``gst translate`` /
``gst stylize --model`` run per image), FID from ``images_features`` + ``frechet_distance``."""

from __future__ import annotations

import torch

from gst_core.kinds import registry
from gst_core.training import Trainer
from gst_core.training.build import build_objective
from gst_plugins.datasets.i2i_shapes import PairedShapes, UnpairedShapes

ADAM = {"name": "Adam", "lr": 2e-4, "betas": [0.5, 0.999]}


def trainer(objective_name: str) -> Trainer:
    """The reference recipe (gst's defaults for the objective), batch 1, nothing written.
    The shapes dataset only satisfies the trainer's data checks; the timed batches are photos."""
    torch.manual_seed(0)
    objective = build_objective(objective_name, {})
    data_cls = PairedShapes if objective_name == "pix2pix" else UnpairedShapes
    data = data_cls(image_size=256, count=2, seed=0)
    config = {"steps": 10**6, "batch_size": 1, "optimizer": ADAM, "progress": False}
    return Trainer(objective, data, config)


def step(t: Trainer, a: torch.Tensor, b: torch.Tensor) -> dict:
    return t.objective.train_step(t.step_networks, {"A": a, "B": b}, t)


def generator(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    spec = {"name": name, **({"scale_255": True} if name == "transformer_net" else {})}
    return registry("generator").build(spec).eval()
