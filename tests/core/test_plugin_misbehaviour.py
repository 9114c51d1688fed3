"""Issue 12 item 11: a plugin that exits or hangs while importing is named, bounded in time,
and does not hide the others."""

from __future__ import annotations

import textwrap

import pytest

from gst_core.cli import main
from gst_core.errors import PluginLoadError
from gst_core.kinds import registry

GOOD = textwrap.dedent(
    """
    from gst_core import Loss
    class Mse(Loss):
        def forward(self, a, b):
            return ((a - b) ** 2).mean()
    """
)


def _add(site, name: str, code: str) -> None:
    module = name.replace("-", "_")
    site.add(
        name,
        entry_points={"gst_core.losses": {module: f"{module}:Mse"}},
        modules={module: code},
    )


@pytest.fixture
def misbehaving(isolated):
    _add(isolated, "fake-aaa-good", GOOD)
    _add(isolated, "fake-exits", "import sys\nsys.exit(4)\n")
    _add(isolated, "fake-kills", "import os\nos._exit(5)\n")
    _add(isolated, "fake-zzz-good", GOOD)
    return isolated


def test_check_names_plugins_that_exit_and_keeps_checking_the_others(misbehaving, capsys):
    assert main(["plugins", "check", "--kind", "loss"]) == 1
    out = capsys.readouterr().out
    assert "FAIL loss fake_exits (fake-exits 1.0, fake_exits:Mse)" in out
    assert "caused by SystemExit: 4" in out
    assert "FAIL loss fake_kills (fake-kills 1.0, fake_kills:Mse)" in out
    assert "the interpreter exited with status 5 while importing it" in out
    assert "ok   loss fake_aaa_good" in out and "ok   loss fake_zzz_good" in out
    assert "2 failed" in out


def test_a_plugin_that_never_finishes_importing_is_reported_after_the_timeout(isolated, capsys):
    _add(isolated, "fake-hangs", "import time\ntime.sleep(3600)\n")
    _add(isolated, "fake-zzz-good", GOOD)
    # `list` and `check` share the bounded check; one of them is enough here.
    assert main(["plugins", "check", "--kind", "loss", "--timeout", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL loss fake_hangs" in out and "ok   loss fake_zzz_good" in out
    assert "did not finish importing within 1 s" in out


def test_using_a_component_whose_module_calls_sys_exit_raises_plugin_load_error(misbehaving):
    with pytest.raises(
        PluginLoadError, match=r"loss 'fake_exits' from fake-exits 1.0 .*SystemExit"
    ):
        registry("loss").get("fake_exits")
    assert registry("loss").get("fake_zzz_good").__name__ == "Mse"
