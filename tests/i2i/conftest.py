"""Fixtures for the image-to-image tests: one thread, tiny networks, tiny data."""

from __future__ import annotations


def tiny_config(objective: str, *, steps: int = 3, run_dir=None, **train) -> dict:
    """A config that trains ``objective`` in well under a second per step."""
    if objective == "pix2pix":
        config = {
            "generator": {"name": "unet", "num_downs": 5, "width": 4},
            "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
            "data": {"name": "paired_shapes", "image_size": 32, "count": 8},
        }
    else:
        config = {
            "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
            "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
            "data": {"name": "unpaired_shapes", "image_size": 16, "count": 8},
            "objective": {"pool_size": 3},
        }
    config["train"] = {
        "steps": steps,
        "batch_size": 2,
        "progress": False,
        "sample_every": 0,
        "checkpoint_every": 0,
        "sample_count": 6,
        **({"run_dir": str(run_dir)} if run_dir else {}),
        **train,
    }
    return config
