"""Fixtures for the web app's tests: tiny trained runs of each kind the tabs take, one thread.

Each run trains for a step or two on the built-in procedural data (seconds on a shared 2-core
CPU); the same runs serve the handler tests and the browser test.
"""

from __future__ import annotations

import textwrap

import pytest
import torch
from PIL import Image

from gst_core.cli import main

# A class-conditional GAN on 16-pixel shapes (tests/gan/test_cli.py's), logged and previewed
# every step.
GAN_CONFIG = """
[generator]
name = "dcgan_conditional"
num_classes = 3
latent_dim = 8
image_size = 16
width = 4

[discriminator]
name = "projection"
num_classes = 3
image_size = 16
width = 4

[data]
name = "shapes"
image_size = 16
num_classes = 3
per_class = 8

[train]
steps = 6
batch_size = 8
progress = false
sample_every = 1
log_every = 1
"""

# fast_style small enough for a few seconds (tests/faststyle/conftest.py's).
FAST_STYLE = [
    "--threads", "1", "--batch-size", "2", "--sample-every", "0", "--checkpoint-every", "2",
    "--set", "generator.name=transformer_net", "--set", "generator.channels=4",
    "--set", "generator.residual_blocks=1", "--set", "feature_extractor.name=random_multiscale",
    "--set", "feature_extractor.channels=8", "--set", "feature_extractor.num_scales=3",
    "--set", "data.image_size=16", "--set", "data.count=6", "--set", "data.photo_fraction=0.0",
    "--set", "objective.style_size=32",
]  # fmt: skip


def _i2i_config(objective: str, run_dir) -> dict:
    if objective == "pix2pix":
        nets = {
            "generator": {"name": "unet", "num_downs": 5, "width": 4},
            "data": {"name": "paired_shapes", "image_size": 32, "count": 8},
        }
    else:
        nets = {
            "generator": {"name": "resnet", "n_blocks": 1, "width": 4},
            "data": {"name": "unpaired_shapes", "image_size": 16, "count": 8},
            "objective": {"pool_size": 3},
        }
    return {
        **nets,
        "discriminator": {"name": "patchgan", "width": 4, "num_layers": 2},
        "train": {
            "steps": 1,
            "batch_size": 2,
            "progress": False,
            "sample_every": 0,
            "checkpoint_every": 0,
            "run_dir": str(run_dir),
        },
    }


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory):
    """A folder of tiny run folders: gan, pix2pix, cyclegan, fast_style and adain."""
    from gst_core.training.build import build_trainer

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    config = root.parent / "gan.toml"
    config.write_text(textwrap.dedent(GAN_CONFIG))
    assert main(["train", "gan", "-c", str(config), "--run-dir", str(root / "gan")]) == 0
    for objective in ("pix2pix", "cyclegan"):
        build_trainer(_i2i_config(objective, root / objective), objective).fit()
    assert main(["train", "fast_style", "--steps", "2", "--run-dir", str(root / "fast_style"),
                 *FAST_STYLE]) == 0  # fmt: skip
    assert main(["train", "adain", "--run-dir", str(root / "adain"), "--set", "train.steps=1",
                 "--set", "data.image_size=32", "--set", "data.count=2", "--set",
                 "train.batch_size=2", "--set", "objective.style_size=40", "--set",
                 "train.sample_every=0", "--threads", "1"]) == 0  # fmt: skip
    return root


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """Two small RGB images of different sizes (a content 40×24 and a style 30×30)."""
    folder = tmp_path_factory.mktemp("photos")
    rng = torch.Generator().manual_seed(0)
    paths = {}
    for name, (w, h) in {"content": (40, 24), "style": (30, 30)}.items():
        pixels = (torch.rand(h, w, 3, generator=rng) * 255).byte().numpy()
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths
