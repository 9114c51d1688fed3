"""Building components from spec dicts and TOML files, and the errors for malformed ones."""

from __future__ import annotations

import pytest
import torch

import gst_core
from gst_core import (
    ComponentArgumentError,
    ImageGenerator,
    Loss,
    Registry,
    SpecError,
    UnknownComponentError,
)
from gst_core import kinds as kinds_module

PLUGIN = """
    import torch
    from torch import nn
    from gst_core import ImageGenerator, Loss

    class Scaled(Loss):
        def __init__(self, weight: float = 1.0):
            super().__init__()
            self.weight = weight
        def forward(self, a, b):
            return self.weight * (a - b).abs().mean()

    class Flat(ImageGenerator):
        def __init__(self, latent_dim: int = 4, size: int = 2):
            super().__init__()
            self.latent_dim = latent_dim
            self.image_shape = (1, size, size)
            self.net = nn.Linear(latent_dim, size * size)
        def forward(self, z, labels=None):
            return torch.tanh(self.net(z)).view(-1, *self.image_shape)
"""


@pytest.fixture
def parts(site, monkeypatch):
    site.add(
        "fake-parts",
        entry_points={
            "gst_core.losses": {"scaled": "fake_parts:Scaled"},
            "gst_core.generators": {"flat": "fake_parts:Flat"},
        },
        modules={"fake_parts": PLUGIN},
    )
    # Fresh registries so the fake distribution is discovered in this test only.
    monkeypatch.setitem(kinds_module.KINDS, "loss", Registry("loss", Loss, "gst_core.losses"))
    monkeypatch.setitem(
        kinds_module.KINDS,
        "generator",
        Registry("generator", ImageGenerator, "gst_core.generators"),
    )


def write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_toml_sections_build_single_and_labelled_components(parts, tmp_path):
    path = write(
        tmp_path,
        """
        [generator]
        name = "flat"
        latent_dim = 3

        [loss.pixel]
        name = "scaled"
        weight = 2.0

        [loss.plain]
        name = "scaled"

        [train]
        steps = 10
        """.replace("        ", ""),
    )
    built = gst_core.build_from_toml(path)
    assert set(built) == {"generator", "loss"}
    generator = gst_core.config.single(built, "generator")
    assert built["generator"] == {"generator": generator}  # one shape: {kind: {label: module}}
    assert generator.latent_dim == 3
    assert generator(torch.zeros(2, 3)).shape == (2, 1, 2, 2)
    assert built["loss"]["pixel"].weight == 2.0 and built["loss"]["plain"].weight == 1.0


def test_build_by_kind_name(parts):
    assert gst_core.build("losses", "scaled", weight=4.0).weight == 4.0
    assert gst_core.build("generator", {"name": "flat", "size": 3}).image_shape == (1, 3, 3)


def test_unknown_name_in_toml_names_file_and_section(parts, tmp_path):
    path = write(tmp_path, '[loss.pixel]\nname = "scaeld"\n')
    with pytest.raises(
        UnknownComponentError,
        match=r"run.toml: \[loss.pixel\]: unknown loss 'scaeld'; did you mean 'scaled'",
    ):
        gst_core.build_from_toml(path)


def test_bad_kwargs_in_toml_names_section_and_signature(parts, tmp_path):
    path = write(tmp_path, '[generator]\nname = "flat"\nlatent = 3\n')
    with pytest.raises(
        ComponentArgumentError, match=r"\[generator\]: .*flat\(latent_dim: int = 4, size: int = 2\)"
    ):
        gst_core.build_from_toml(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[generator]\nlatent_dim = 3\n",
            r"\[generator\] has neither a 'name' key .* 'latent_dim' is 3",
        ),
        ("[loss.pixel]\nweight = 3\n", r"\[loss.pixel\] has no 'name' key"),
        ('generator = "flat"\n', r"\[generator\] must be a table with a 'name' key, got 'flat'"),
        ('[generator\nname = "flat"\n', r"run.toml' is not valid TOML: .*line 1"),
    ],
)
def test_malformed_toml(parts, tmp_path, text, message):
    with pytest.raises(SpecError, match=message):
        gst_core.build_from_toml(write(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        gst_core.load_toml(tmp_path / "nope.toml")
