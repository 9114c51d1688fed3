"""Fixtures that install throw-away plugin distributions into a temporary folder.

A distribution here is what pip would leave in site-packages: a
``<name>-<version>.dist-info`` folder (METADATA, entry_points.txt) beside the
plugin's modules. Putting the folder on ``sys.path`` makes
``importlib.metadata`` see it, exactly as after ``pip install``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from gst_core import kinds as kinds_module
from gst_core.registry import Registry


def write_distribution(
    root: Path,
    name: str,
    version: str,
    entry_points: dict[str, dict[str, str]],
    modules: dict[str, str],
) -> None:
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{ep} = {target}" for ep, target in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh site folder on sys.path; call ``site.add(...)`` to 'install' a distribution."""

    class Site:
        path = tmp_path

        def add(self, name, version="1.0", *, entry_points, modules=None):
            write_distribution(tmp_path, name, version, entry_points, modules or {})
            importlib.invalidate_caches()

    monkeypatch.syspath_prepend(str(tmp_path))
    yield Site()
    for mod in [m for m in sys.modules if m.startswith("fake_")]:
        del sys.modules[mod]


@pytest.fixture
def isolated(site, monkeypatch):
    """Fresh registries that see ``site``, here and in the child load-check interpreter."""
    monkeypatch.setenv("PYTHONPATH", str(site.path))
    for kind, old in list(kinds_module.KINDS.items()):
        monkeypatch.setitem(kinds_module.KINDS, kind, Registry(kind, old.interface, old.group))
    return site
