"""Entry-point discovery: lazy loading, broken plugins, duplicates, wrong objects."""

from __future__ import annotations

import sys

import pytest

from gst_core import (
    ComponentTypeError,
    DuplicateComponentError,
    Loss,
    PluginLoadError,
    Registry,
)

GROUP = "gst_test.losses"

GOOD = """
    import torch
    from gst_core import Loss

    class Mse(Loss):
        def __init__(self, weight: float = 1.0):
            super().__init__()
            self.weight = weight

        def forward(self, a, b):
            return self.weight * ((a - b) ** 2).mean()
"""


def fresh() -> Registry:
    return Registry("loss", Loss, GROUP)


def test_names_are_listed_without_importing_the_plugin(site):
    site.add(
        "fake-good",
        "1.2",
        entry_points={GROUP: {"mse": "fake_good:Mse"}},
        modules={"fake_good": GOOD},
    )
    losses = fresh()
    assert losses.names() == ["mse"]
    entry = losses.entry("mse")
    assert (entry.distribution, entry.version, entry.target) == (
        "fake-good",
        "1.2",
        "fake_good:Mse",
    )
    assert entry.status == "not loaded"
    assert "fake_good" not in sys.modules

    import torch

    loss = losses.build("mse", weight=2.0)
    assert "fake_good" in sys.modules and entry.status == "ok"
    # 2 * mean([1, 4]) = 5
    assert loss(torch.tensor([1.0, 2.0]), torch.zeros(2)).item() == pytest.approx(5.0)


def test_a_broken_plugin_does_not_break_the_others(site):
    site.add(
        "fake-good", entry_points={GROUP: {"mse": "fake_good:Mse"}}, modules={"fake_good": GOOD}
    )
    site.add(
        "fake-broken",
        "0.1",
        entry_points={GROUP: {"broken": "fake_broken:Thing"}},
        modules={"fake_broken": "raise RuntimeError('missing CUDA toolkit')\n"},
    )
    losses = fresh()
    assert losses.names() == ["broken", "mse"]
    assert isinstance(losses.build("mse"), Loss)
    with pytest.raises(
        PluginLoadError, match=r"loss 'broken' from fake-broken 0.1 \(fake_broken:Thing\) failed"
    ) as info:
        losses.build("broken")
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__) == "missing CUDA toolkit"
    assert losses.entry("broken").status == "broken"
    # Asking again gives the same error rather than a confusing half-imported state.
    with pytest.raises(PluginLoadError, match="missing CUDA toolkit"):
        losses.get("broken")


def test_same_name_from_two_distributions_names_both(site):
    site.add(
        "fake-one",
        "1.0",
        entry_points={GROUP: {"mse": "fake_good:Mse"}},
        modules={"fake_good": GOOD},
    )
    site.add(
        "fake-two", "2.0", entry_points={GROUP: {"mse": "fake_two:Mse"}}, modules={"fake_two": GOOD}
    )
    losses = fresh()
    assert losses.entry("mse").status == "conflict"
    with pytest.raises(DuplicateComponentError) as info:
        losses.build("mse")
    message = str(info.value)
    assert "fake-one 1.0 (fake_good:Mse)" in message
    assert "fake-two 2.0 (fake_two:Mse)" in message
    assert "fake_good" not in sys.modules and "fake_two" not in sys.modules


def test_entry_point_to_a_non_component_is_named(site):
    site.add(
        "fake-wrong",
        entry_points={GROUP: {"linear": "fake_wrong:NotALoss", "const": "fake_wrong:VALUE"}},
        modules={
            "fake_wrong": "from torch import nn\nclass NotALoss(nn.Module): pass\nVALUE = 3\n"
        },
    )
    losses = fresh()
    with pytest.raises(
        ComponentTypeError,
        match=r"loss entry point 'linear' \(fake-wrong 1.0 \(fake_wrong:NotALoss\)\).*not a subclass of gst_core.interfaces.Loss",
    ):
        losses.get("linear")
    with pytest.raises(ComponentTypeError, match=r"entry point 'const'.*loads 3"):
        losses.get("const")
    assert losses.entry("linear").status == "broken"


def test_entry_point_names_must_be_snake_case(site):
    site.add(
        "fake-caps", entry_points={GROUP: {"MyLoss": "fake_good:Mse"}}, modules={"fake_good": GOOD}
    )
    losses = fresh()
    with pytest.raises(PluginLoadError, match="not lowercase snake_case"):
        losses.get("MyLoss")


def test_runtime_registration_cannot_shadow_a_plugin(site):
    site.add(
        "fake-good", entry_points={GROUP: {"mse": "fake_good:Mse"}}, modules={"fake_good": GOOD}
    )
    losses = fresh()

    class Mine(Loss):
        pass

    with pytest.raises(
        DuplicateComponentError, match=r"already registered by fake-good 1.0 \(fake_good:Mse\)"
    ):
        losses.register(Mine, name="mse")
