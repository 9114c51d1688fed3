"""Tiny trained runs of every built-in objective, made once per session, for publishing."""

from __future__ import annotations

import pytest
import torch

from gst_core.cli import main
from gst_core.training.build import build_trainer

_TRAIN = {"steps": 2, "batch_size": 2, "progress": False, "sample_every": 0, "ema_decay": 0.5}
_STYLE_PARTS = {
    "generator": {"name": "transformer_net", "channels": 4, "residual_blocks": 1},
    "feature_extractor": {"name": "random_multiscale", "channels": 8, "num_scales": 3},
    "data": {"name": "content_photos", "image_size": 16, "count": 4, "photo_fraction": 0.0},
}
CONFIGS = {
    "gan": {
        "generator": {
            "name": "dcgan_conditional",
            "num_classes": 3,
            "latent_dim": 8,
            "image_size": 16,
            "width": 4,
        },
        "discriminator": {"name": "projection", "num_classes": 3, "image_size": 16, "width": 4},
        "loss": {"adversarial": {"name": "hinge"}},
        "data": {"name": "shapes", "image_size": 16, "num_classes": 3, "per_class": 4},
    },
    "pix2pix": {
        "generator": {"name": "unet", "num_downs": 5, "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "data": {"name": "paired_shapes", "image_size": 32, "count": 4},
    },
    "cyclegan": {
        "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "data": {"name": "unpaired_shapes", "image_size": 16, "count": 4},
        "objective": {"pool_size": 3},
    },
    "fast_style": {**_STYLE_PARTS, "objective": {"style_size": 32}},
    "gan_style": {
        **_STYLE_PARTS,
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "objective": {"style_size": 32, "warmup_steps": 1},
    },
}
OBJECTIVES = list(CONFIGS)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory):
    """Objective name → a run folder trained for 2 steps (EMA on where the objective has it)."""
    torch.set_num_threads(1)
    runs = {}
    for objective, config in CONFIGS.items():
        run_dir = tmp_path_factory.mktemp(f"run_{objective}")
        extra = {}
        if objective == "gan_style":
            from gst_plugins.datasets.style_samples import sample_style

            styles = tmp_path_factory.mktemp("styles")
            for i in range(2):
                sample_style(40, 36, seed=i).save(styles / f"s{i}.png")
            extra = {"style_dir": str(styles)}
        config = {
            **config,
            "objective": {**config.get("objective", {}), **extra},
            "train": {**_TRAIN, "run_dir": str(run_dir)},
        }
        if not config["objective"]:
            del config["objective"]
        build_trainer(config, objective).fit()
        runs[objective] = run_dir
    return runs


@pytest.fixture(scope="session")
def published(trained_runs, tmp_path_factory):
    """Objective name → its run published with `gst publish` (through the command line)."""
    folders = {}
    for objective, run in trained_runs.items():
        out = tmp_path_factory.mktemp("models") / objective
        assert main(["publish", str(run), "-o", str(out), "--license", "mit"]) == 0
        folders[objective] = out
    return folders
