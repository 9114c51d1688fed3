"""Item 10: every component build names the component, its source and its signature."""

from __future__ import annotations

import pytest
from torch import nn

from gst_core.errors import ComponentArgumentError
from gst_core.kinds import losses
from gst_core.registry import Registry


def test_an_unknown_keyword_names_the_loss_and_its_signature():
    with pytest.raises(ComponentArgumentError) as info:
        losses.build({"name": "hinge", "bogus": 1})
    message = str(info.value)
    assert "loss 'hinge' (gst-toolkit" in message
    assert "could not be built with {'bogus': 1}" in message
    assert "unexpected keyword argument 'bogus'" in message


def test_a_wrongly_typed_keyword_names_the_loss_and_its_source():
    with pytest.raises(ComponentArgumentError) as info:
        losses.build({"name": "wasserstein", "drift": "x"})
    message = str(info.value)
    assert "loss 'wasserstein' (gst-toolkit" in message
    assert "could not be built with {'drift': 'x'}" in message
    assert "Its signature is wasserstein(" in message
    assert info.value.__cause__ is not None


def test_a_constructor_that_raises_is_reported_with_its_component():
    registry: Registry[nn.Module] = Registry("widget", nn.Module, "gst_tests.widgets")

    @registry.register(name="fragile")
    class Fragile(nn.Module):
        def __init__(self, size: int = 1) -> None:
            super().__init__()
            raise RuntimeError("the plugin author forgot something")

    with pytest.raises(ComponentArgumentError) as info:
        registry.build("fragile", size=2)
    message = str(info.value)
    assert "widget 'fragile' (registered at run time" in message
    assert "RuntimeError: the plugin author forgot something" in message
    assert "Its signature is fragile(size: " in message
