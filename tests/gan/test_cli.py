"""`gst train` and `gst sample` end to end, and config errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from PIL import Image

from gst_core.cli import main

CONFIG = """
[generator]
name = "dcgan_conditional"
num_classes = 3
latent_dim = 8
image_size = 16
width = 4

[discriminator]
name = "projection"
num_classes = 3
image_size = 16
width = 4

[loss.adversarial]
name = "wasserstein"
[loss.gp]
name = "gradient_penalty"
weight = 10.0

[data]
name = "shapes"
image_size = 16
num_classes = 3
per_class = 8

[objective]
n_critic = 2

[train]
steps = 2
batch_size = 8
ema_decay = 0.5
progress = false
"""


def _write(tmp_path, text=CONFIG, name="run.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_train_resume_and_sample(tmp_path, capsys):
    config = _write(tmp_path)
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "gan",
                "--config",
                str(config),
                "--run-dir",
                str(run),
                "--lr-d",
                "1e-3",
                "--sample-every",
                "1",
            ]
        )
        == 0
    )
    assert (run / "checkpoints" / "last.pt").is_file()
    assert len(list((run / "samples").glob("*.png"))) == 2
    # resume from the run folder alone: the config comes from the checkpoint
    assert main(["train", "gan", "--resume", str(run), "--steps", "3"]) == 0
    assert "resumed from" in capsys.readouterr().out
    steps = [line.split(",")[0] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == ['{"step": 2', '{"step": 3']  # logged at each run's last step

    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "-n", "6", "-o", str(grid)]) == 0
    assert Image.open(grid).size == (2 + 2 * 18, 2 + 3 * 18)  # one row per class
    assert (
        main(["sample", str(run), "-n", "4", "-o", str(grid), "--label", "2", "--overwrite"]) == 0
    )
    assert main(["sample", str(run), "--label", "3", "-o", str(grid), "--overwrite"]) == 2
    assert "--label must lie in 0..2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('name = "projection"', 'name = "projektion"'), "did you mean 'projection'"),
        (('name = "wasserstein"', 'name = "gradient_penalty"'), "exactly one adversarial loss"),
        (
            ("num_classes = 3\nper_class = 8", 'root = "/nonexistent"'),
            "dataset 'shapes' cannot be built",
        ),
        (
            ('"shapes"\nimage_size = 16\nnum_classes = 3\nper_class = 8', '"folder"\nroot = "/no"'),
            "'/no' does not exist",
        ),
        (("steps = 2", "stepz = 2"), "did you mean 'steps'"),
        (("n_critic = 2", "n_critics = 2"), "n_critic"),
        (
            ("image_size = 16\nwidth = 4\n\n[loss", "image_size = 32\nwidth = 4\n\n[loss"),
            "set the same image_size",
        ),
    ],
)
def test_config_errors_are_reported_without_traceback(tmp_path, capsys, edit, message):
    text = textwrap.dedent(CONFIG)
    assert edit[0] in text
    config = _write(tmp_path, text.replace(edit[0], edit[1], 1))
    assert main(["train", "gan", "--config", str(config), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gst: error:") and message in err


def test_resume_with_a_changed_architecture_fails_cleanly(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "gan",
                "--config",
                str(_write(tmp_path)),
                "--run-dir",
                str(run),
                "--steps",
                "1",
            ]
        )
        == 0
    )
    wider = _write(tmp_path, textwrap.dedent(CONFIG).replace("width = 4", "width = 8"), "w.toml")
    assert main(["train", "gan", "--config", str(wider), "--resume", str(run)]) == 2
    assert "does not fit this run's generator" in capsys.readouterr().err


def test_corrupt_checkpoint_fails_cleanly(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    assert main(["sample", str(bad)]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_warnings_read_as_one_gst_line(tmp_path):
    """A warning on the command line is `gst: warning: ...`, not Python's file:line + source."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (20, 20), (60 * i, 0, 0)).save(folder / f"{i}.png")
    (folder / "bad.png").write_bytes(b"not an image")
    fixture = Path(__file__).parent / "fixtures" / "gan_v0_1.toml"  # unconditional, 8 px
    text = fixture.read_text().replace(
        'name = "shapes"\nimage_size = 8\nnum_classes = 2\nper_class = 8',
        f'name = "folder"\nroot = "{folder}"\nimage_size = 8',
    )
    assert str(folder) in text
    config = _write(tmp_path, text)
    args = [
        "train",
        "gan",
        "--config",
        str(config),
        "--run-dir",
        str(tmp_path / "r"),
        "--steps",
        "1",
    ]
    # In a child process, as a user runs it: pytest would record the warning instead.
    done = subprocess.run(
        [sys.executable, "-m", "gst_core", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "gst: warning: skipped 1 unreadable image(s) of 5" in err
    assert ".py:" not in err and "UserWarning" not in err
    # Called from Python, main() leaves Python's own warning format as it found it.
    before = warnings.formatwarning
    assert main(["plugins", "list", "--no-load", "--kind", "objective"]) == 0
    assert warnings.formatwarning is before
