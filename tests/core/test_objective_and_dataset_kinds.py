"""Objectives and datasets are plugin kinds like the other four: listing, errors, `gst train`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gst_core.cli import main
from gst_core.errors import (
    ComponentArgumentError,
    DuplicateComponentError,
    PluginLoadError,
    UnknownComponentError,
)
from gst_core.kinds import registry

OBJECTIVE = """
    from gst_core import Objective

    class Tiny(Objective):
        def __init__(self, steps_per_call: int = 1):
            self.steps_per_call = steps_per_call

        def networks(self):
            return {}

        def train_step(self, nets, batch, ctx):
            return {}

        def preview(self, networks, count):
            raise NotImplementedError
"""

DATASET = """
    import torch
    from gst_core import ImageDataset

    class Ones(ImageDataset):
        def __init__(self, count: int = 4):
            self.count = count

        def __len__(self):
            return self.count

        def __getitem__(self, i):
            return torch.ones(3, 4, 4), -1
"""

PLUGINS = {
    "objective": ("gst_core.objectives", OBJECTIVE, "Tiny"),
    "dataset": (
        "gst_core.datasets",
        DATASET,
        "Ones",
    ),
}


@pytest.mark.parametrize("kind", ["objective", "dataset"])
def test_plugin_contract_of_the_new_kinds(isolated, kind):
    group, source, cls = PLUGINS[kind]
    # Two distributions claim fake_thing; a third adds fake_other; a fourth fails to import.
    for dist, name in (("one", "fake_thing"), ("two", "fake_thing"), ("three", "fake_other")):
        isolated.add(
            f"fake-{dist}",
            entry_points={group: {name: f"fake_{dist}:{cls}"}},
            modules={f"fake_{dist}": source},
        )
    isolated.add(
        "fake-broken",
        entry_points={group: {"fake_broken": f"fake_broken:{cls}"}},
        modules={"fake_broken": "raise ImportError('needs libfoo 2.0')\n"},
    )
    reg = registry(kind)
    assert reg.names("fake_*") == ["fake_broken", "fake_other", "fake_thing"]
    with pytest.raises(
        UnknownComponentError, match=rf"unknown {kind} 'fake_othr'; did you mean 'fake_other'"
    ):
        reg.entry("fake_othr")
    with pytest.raises(
        DuplicateComponentError, match=r"fake-one 1.0 \(fake_one:.*\n.*fake-two 1.0 \(fake_two:"
    ):
        reg.get("fake_thing")
    with pytest.raises(PluginLoadError, match="needs libfoo 2.0") as info:
        reg.get("fake_broken")
    assert isinstance(info.value.__cause__, ImportError)
    # The broken and the conflicting plugin do not stop the good one.
    with pytest.raises(ComponentArgumentError, match=r"Its signature is fake_other\("):
        reg.build("fake_other", bogus=1)
    assert type(reg.build("fake_other")).__name__ == cls


@pytest.mark.parametrize(
    ("kind", "names"),
    [("objective", {"gan"}), ("dataset", {"shapes", "digits", "folder", "style_samples"})],
)
def test_plugins_list_shows_the_builtin_objectives_and_datasets(capsys, kind, names):
    assert main(["plugins", "list", "--kind", kind, "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert names <= set(rows)
    for name in names:
        assert rows[name]["kind"] == kind and rows[name]["distribution"] == "gst-toolkit"
        assert rows[name]["status"] == "ok", rows[name]


def test_gst_train_resolves_the_name_through_the_objective_registry(capsys, tmp_path):
    assert main(["train", "gna", "--config", str(tmp_path / "x.toml")]) == 2
    assert "unknown objective 'gna'; did you mean 'gan'?" in capsys.readouterr().err


def test_an_objective_without_from_config_is_explained(isolated, tmp_path, capsys):
    group, source, cls = PLUGINS["objective"]
    isolated.add(
        "fake-one",
        entry_points={group: {"fake_tiny": f"fake_one:{cls}"}},
        modules={"fake_one": source},
    )
    config = tmp_path / "run.toml"
    config.write_text('[data]\nname = "shapes"\n')
    assert main(["train", "fake_tiny", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "does not implement from_config" in err and "Traceback" not in err


def test_the_core_imports_no_builtin_plugin():
    """gst_core knows the built-ins by registry name only (they load through entry points)."""
    code = (
        "import sys, gst_core, gst_core.cli, gst_core.training, gst_core.pipelines, "
        "gst_core.perceptual, gst_core.checkpoint\n"
        "from gst_core.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('gst_plugins')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
