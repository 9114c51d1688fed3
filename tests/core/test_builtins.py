"""Every built-in component is reachable through gst-toolkit's own entry points."""

from __future__ import annotations

import inspect

import pytest

from gst_core import KINDS, GstError

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


@pytest.mark.parametrize(("kind", "name"), BUILTINS, ids=[f"{k}:{n}" for k, n in BUILTINS])
def test_builtin_loads_and_builds_with_defaults(kind, name):
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
    try:
        component = registry.build(name)
    except GstError as exc:
        # A deliberate, explained refusal (e.g. VGG without a weights file) is fine;
        # any other exception from a default build is a bug.
        assert "pass" in str(exc) or "set" in str(exc), str(exc)
        return
    assert isinstance(component, registry.interface)
