"""`gst plugins list` and `gst plugins check`."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from gst_core.cli import main

GOOD = """
    from gst_core import Loss
    class Mse(Loss):
        def forward(self, a, b):
            return ((a - b) ** 2).mean()
"""


@pytest.fixture
def installed(isolated):
    site = isolated
    site.add(
        "fake-good",
        "1.0",
        entry_points={"gst_core.losses": {"fake_mse": "fake_good:Mse"}},
        modules={"fake_good": GOOD},
    )
    site.add(
        "fake-broken",
        "0.3",
        entry_points={"gst_core.generators": {"fake_broken": "fake_broken:Gen"}},
        modules={"fake_broken": "import gst_core\nraise ImportError('needs libfoo 2.0')\n"},
    )


def test_list_json_shows_dist_version_and_load_status_without_importing(installed, capsys):
    assert main(["plugins", "list", "--json"]) == 0
    rows = {(r["kind"], r["name"]): r for r in json.loads(capsys.readouterr().out)}
    good = rows[("loss", "fake_mse")]
    assert (good["distribution"], good["version"], good["status"]) == ("fake-good", "1.0", "ok")
    broken = rows[("generator", "fake_broken")]
    assert broken["status"] == "broken"
    assert "needs libfoo 2.0" in broken["error"]
    # The listing process itself imported neither plugin.
    assert "fake_good" not in sys.modules and "fake_broken" not in sys.modules


def test_list_kind_filter_and_table(installed, capsys):
    assert main(["plugins", "list", "--kind", "losses", "--no-load"]) == 0
    out = capsys.readouterr().out
    assert "fake_mse" in out and "fake-good" in out and "not checked" in out
    assert "fake_broken" not in out


def test_list_marks_broken_in_table(installed, capsys):
    assert main(["plugins", "list", "--kind", "generator"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "fake_broken" in line)
    assert "broken" in line
    assert "cannot be used; `gst plugins check` shows why" in out


def test_check_exits_nonzero_and_prints_the_cause(installed, capsys):
    assert main(["plugins", "check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL generator fake_broken (fake-broken 0.3, fake_broken:Gen)" in out
    assert "caused by ImportError: needs libfoo 2.0" in out
    assert "ok   loss fake_mse" in out


def test_check_passes_when_everything_loads(installed, capsys):
    assert main(["plugins", "check", "--kind", "loss"]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_unknown_kind_is_a_clear_cli_error(capsys):
    assert main(["plugins", "list", "--kind", "lossses"]) == 2
    assert (
        "gst: error: unknown component kind 'lossses'; did you mean 'loss'?"
        in capsys.readouterr().err
    )


def test_a_plugin_printing_on_import_does_not_garble_the_listing(isolated, capsys):
    isolated.add(
        "fake-chatty",
        entry_points={"gst_core.losses": {"fake_chatty": "fake_chatty:Mse"}},
        modules={"fake_chatty": "print('hello from an import')\n" + textwrap.dedent(GOOD)},
    )
    assert main(["plugins", "list", "--kind", "loss", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fake_chatty"]["status"] == "ok"


def test_a_plugin_killing_the_interpreter_leaves_the_listing_with_unknown_status(isolated, capsys):
    isolated.add(
        "fake-fatal",
        entry_points={"gst_core.losses": {"fake_fatal": "fake_fatal:Mse"}},
        modules={"fake_fatal": "import os\nos._exit(3)\n"},
    )
    assert main(["plugins", "list", "--kind", "loss"]) == 0
    captured = capsys.readouterr()
    line = next(line for line in captured.out.splitlines() if "fake_fatal" in line)
    assert "unknown" in line
    assert "the load check exited with status 3" in captured.err
    assert "run `gst plugins check` to see which" in captured.err
