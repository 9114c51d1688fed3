"""Reference implementations for the metric tests, and tiny shared fixtures.

pytorch-fid and clean-fid import torchvision at import time, which the pinned
CPU torch cannot have, so `make setup` installs them without dependencies and
the tests never import them: :func:`reference_function` reads one function's
source from the installed package with ``ast`` and executes only that, with
the module-level names it needs (numpy, scipy.linalg).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg


def reference_function(package: str, module: str, name: str):
    spec = importlib.util.find_spec(package)  # locates the package; imports nothing
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            f"{package} is not installed; `make setup` installs it (pip install --no-deps "
            "pytorch-fid==0.3.0 clean-fid==0.1.35)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / f"{module}.py"
    tree = ast.parse(path.read_text())
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert nodes, f"{name} not found in {path}"
    namespace = {"np": np, "linalg": linalg}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(path), "exec"), namespace)
    return namespace[name]


@pytest.fixture(scope="session")
def pytorch_fid_distance():
    """pytorch-fid 0.3.0's ``calculate_frechet_distance(mu1, sigma1, mu2, sigma2)``."""
    return reference_function("pytorch_fid", "fid_score", "calculate_frechet_distance")


@pytest.fixture(scope="session")
def cleanfid_kernel_distance():
    """clean-fid 0.1.35's ``kernel_distance(feats1, feats2, num_subsets, max_subset_size)``."""
    return reference_function("cleanfid", "fid", "kernel_distance")


TINY_SPEC = {
    "generator": {
        "name": "dcgan_conditional",
        "num_classes": 4,
        "image_size": 16,
        "width": 8,
        "latent_dim": 8,
    },
    "discriminator": {"name": "projection", "num_classes": 4, "image_size": 16, "width": 8},
}


def tiny_objective():
    from gst_core.kinds import discriminators, generators, losses
    from gst_plugins.objectives.gan import GANObjective

    torch.manual_seed(0)
    return GANObjective(
        generators.build(TINY_SPEC["generator"]),
        discriminators.build(TINY_SPEC["discriminator"]),
        losses.build("hinge"),
    )


def small_pool():
    """A random_pool small enough for 16-pixel images and millisecond batches."""
    from gst_core.kinds import feature_extractors

    return feature_extractors.build("random_pool", channels=8, num_scales=3, image_size=16)
