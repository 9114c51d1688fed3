"""Every built-in component is reachable through gst-toolkit's own entry points."""

from __future__ import annotations

import inspect

import pytest

from gst_core import KINDS
from gst_plugins.feature_extractors.weights import WeightsError

BUILTIN_DISTRIBUTION = "gst-toolkit"

BUILTINS = [
    (kind, entry.name)
    for kind, registry in KINDS.items()
    for entry in registry.entries()
    if entry.distribution == BUILTIN_DISTRIBUTION
]


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_has_a_builtin(kind):
    assert any(k == kind for k, _ in BUILTINS), f"no built-in {kind} is registered"


# Built-ins that refuse to build without a weights file, saying how to give one.
NEEDS_WEIGHTS = {
    ("feature_extractor", "vgg16"),
    ("feature_extractor", "vgg19"),
    ("feature_extractor", "inception"),
    ("feature_extractor", "vgg_normalised"),
}


@pytest.mark.parametrize(("kind", "name"), BUILTINS, ids=[f"{k}:{n}" for k, n in BUILTINS])
def test_builtin_loads_and_builds_with_defaults(kind, name, monkeypatch, tmp_path):
    registry = KINDS[kind]
    factory = registry.get(name)
    required = [
        p.name
        for p in inspect.signature(factory).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if required:
        pytest.skip(f"{kind} {name!r} needs {required}; its own tests build it")
    if (kind, name) in NEEDS_WEIGHTS:
        # No env var and an empty torch hub cache: the default build must refuse clearly.
        monkeypatch.delenv("GST_VGG_WEIGHTS", raising=False)
        monkeypatch.delenv("GST_INCEPTION_WEIGHTS", raising=False)
        monkeypatch.setenv("TORCH_HOME", str(tmp_path))
        with pytest.raises(
            WeightsError,
            match=r"no vgg1[69] weights configured: pass weights=|needs pytorch-fid's weights"
            r"|vgg_normalised needs its weights file",
        ):
            registry.build(name)
        component = registry.build(name, weights="random")
    else:
        component = registry.build(name)
    assert isinstance(component, registry.interface)
