"""Flags a new user reaches for (issue 20 items 3, 4, 9, 12 and the weight flags)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from tests.faststyle.conftest import TINY_ARGS


@pytest.mark.parametrize(
    "command",
    [
        ["stylize", "--demo", "--size", "8"],  # refused (size < 16) after the threads are set
        ["sample", "/missing.pt"],
        ["eval", "fid", "/missing_a", "/missing_b"],
        ["export", "/missing.pt", "-o", "/tmp/never.onnx", "--no-compare"],
        ["translate", "/missing.pt", "x.png", "-o", "/tmp/never_out"],
        ["train", "no_such_objective"],
    ],
)
def test_every_torch_subcommand_takes_threads(command, monkeypatch):
    seen = []
    monkeypatch.setattr(torch, "set_num_threads", seen.append)
    assert main([*command, "--threads", "3"]) == 2  # each fails on its missing input, quickly
    assert seen == [3]


def test_threads_below_one_is_refused(capsys):
    assert main(["stylize", "--demo", "--threads", "0"]) == 2
    assert "--threads must be at least 1, got 0" in capsys.readouterr().err


def test_train_help_lists_the_objectives_own_flags(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "fast_style", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "fast_style's own flags" in out
    for flag in ("--style ", "--style-size", "--content-weight", "--style-weight", "--steps"):
        assert flag in out


def test_generic_train_help_still_works(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--steps" in out and "own flags" not in out


def test_train_help_of_an_unknown_objective_says_so(capsys):
    with pytest.raises(SystemExit):
        main(["train", "fast_stlye", "--help"])
    assert "did you mean 'fast_style'" in capsys.readouterr().out


def test_fast_style_weight_flags_reach_the_objective_as_numbers(tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", "fast_style", "--steps", "1", "--run-dir", str(run_dir), *TINY_ARGS]
    assert main([*args, "--content-weight", "3", "--style-weight", "2e4"]) == 0
    weights = load_checkpoint(run_dir / "checkpoints" / "last.pt")["objective_config"]
    assert weights["loss_weights"]["content_weight"] == 3.0
    assert weights["loss_weights"]["style_weight"] == 2e4


def test_objective_flags_are_typed():
    from gst_core.cli.train import objective_options

    found = dict(
        (".".join(k), v) for k, v in objective_options("fast_style", ["--style-size", "24"])
    )
    assert found == {"objective.style_size": 24}  # an int, not the text "24"


def test_gan_style_declares_the_weight_flags():
    from gst_core.cli.train import declared_options

    declared = declared_options("gan_style")
    assert declared["content-weight"][2] is float and declared["style-weight"][2] is float


def test_a_closed_pipe_ends_quietly():
    """`gst plugins list --no-load | head -2`: the reader goes away before gst writes."""
    child = subprocess.Popen(
        [sys.executable, "-m", "gst_core.cli", "plugins", "list", "--no-load"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # as `head` does once it has its lines
    _, err = child.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert child.returncode == 0


def test_eval_checks_both_sides_before_reading_either(tmp_path, capsys, monkeypatch):
    import gst_core.cli.eval as cli_eval

    def must_not_read(*args, **kwargs):
        raise AssertionError("read the real folder before checking the fake one")

    monkeypatch.setattr(cli_eval, "folder_features", must_not_read)
    monkeypatch.setattr(cli_eval, "resolve_extractor", must_not_read)
    assert main(["eval", "fid", str(tmp_path), str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
