"""The registry: registering, looking up, building, and the errors for each mistake."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gst_core import (
    ComponentArgumentError,
    ComponentTypeError,
    DuplicateComponentError,
    Loss,
    Registry,
    SpecError,
    UnknownComponentError,
    registry,
)


class L1(Loss):
    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, a, b):
        return self.scale * (a - b).abs().mean()


@pytest.fixture
def losses():
    return Registry("loss", Loss, "gst_test.none")


def test_register_decorator_and_build_with_kwargs(losses):
    @losses.register(name="l1")
    class Registered(L1):
        pass

    loss = losses.build("l1", scale=2.0)
    assert isinstance(loss, Registered)
    # 2 * mean(|[1, 3] - [0, 0]|) = 4
    assert loss(torch.tensor([1.0, 3.0]), torch.zeros(2)).item() == pytest.approx(4.0)


def test_register_plain_call_defaults_to_lowercase_class_name(losses):
    losses.register(L1)
    assert losses.names() == ["l1"]
    assert losses.get("l1") is L1


def test_build_from_spec_dict_and_kwargs_override(losses):
    losses.register(L1, name="l1")
    assert losses.build({"name": "l1", "scale": 3.0}).scale == 3.0
    assert losses.build({"name": "l1", "scale": 3.0}, scale=5.0).scale == 5.0


def test_factory_function_is_accepted_and_its_result_checked(losses):
    @losses.register(name="made")
    def make(scale: float = 1.0) -> nn.Module:
        return L1(scale)

    @losses.register(name="wrong")
    def make_wrong() -> nn.Module:
        return nn.Linear(2, 2)

    assert isinstance(losses.build("made", scale=0.5), L1)
    with pytest.raises(ComponentTypeError, match=r"'wrong'.*returned Linear, which is not a Loss"):
        losses.build("wrong")


def test_names_glob_filter(losses):
    for name in ["hinge", "lsgan", "l1", "l2"]:
        losses.register(L1, name=name) if name == "l1" else losses.register(
            type(name, (L1,), {}), name=name
        )
    assert losses.names("l*") == ["l1", "l2", "lsgan"]
    assert losses.names() == ["hinge", "l1", "l2", "lsgan"]
    assert "hinge" in losses and "nope" not in losses


def test_unknown_name_suggests_close_matches(losses):
    losses.register(type("Hinge", (L1,), {}), name="hinge")
    with pytest.raises(
        UnknownComponentError, match=r"unknown loss 'hnige'; did you mean 'hinge'\?"
    ):
        losses.build("hnige")


def test_unknown_name_without_close_match_lists_known(losses):
    losses.register(L1, name="l1")
    with pytest.raises(
        UnknownComponentError, match=r"unknown loss 'zzz'; known loss components: l1"
    ):
        losses.get("zzz")


def test_duplicate_runtime_registration_names_both_sources(losses):
    losses.register(L1, name="l1")
    other = type("OtherL1", (L1,), {"__module__": "mypkg.losses"})
    with pytest.raises(DuplicateComponentError) as info:
        losses.register(other, name="l1")
    message = str(info.value)
    assert f"{L1.__module__}:L1" in message and "mypkg.losses:OtherL1" in message
    assert losses.get("l1") is L1  # nothing overwritten


def test_re_registering_the_same_object_is_harmless(losses):
    losses.register(L1, name="l1")
    losses.register(L1, name="l1")
    assert losses.names() == ["l1"]


def test_bad_kwargs_show_the_signature(losses):
    losses.register(L1, name="l1")
    with pytest.raises(
        ComponentArgumentError, match=r"l1\(scale: 'float' = 1.0\)|l1\(scale: float = 1.0\)"
    ):
        losses.build("l1", weight=2.0)


def test_registering_a_non_component_is_refused(losses):
    with pytest.raises(ComponentTypeError, match="not a subclass of gst_core.interfaces.Loss"):
        losses.register(nn.Linear, name="linear")


@pytest.mark.parametrize("bad", ["Hinge", "my-loss", "2d", ""])
def test_names_must_be_snake_case(losses, bad):
    with pytest.raises(ValueError, match="snake_case"):
        losses.register(L1, name=bad)


def test_spec_without_name(losses):
    with pytest.raises(SpecError, match="has no 'name' key"):
        losses.build({"scale": 1.0})


@pytest.mark.parametrize("alias", ["loss", "losses", "Losses"])
def test_registry_by_kind_accepts_singular_and_plural(alias):
    assert registry(alias).kind == "loss"
    assert registry("feature_extractors").kind == "feature_extractor"


def test_unknown_kind():
    with pytest.raises(
        UnknownComponentError, match=r"unknown component kind 'generatr'; did you mean 'generator'"
    ):
        registry("generatr")
