"""Issue 19, items 1 and 2: a fresh run never overwrites a run folder; one process holds it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from gst_core.checkpoint import load_checkpoint
from gst_core.cli import main
from gst_core.training.run_folder import LOCK_NAME, RunFolderError, hold_run_folder

from .helpers import write_config


def _train(config, run, *extra):
    return main(["train", "gan", "-c", str(config), "--run-dir", str(run), *extra])


def test_a_fresh_run_into_a_used_run_folder_is_refused_and_changes_nothing(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert _train(config, run, "--steps", "3") == 0
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert _train(config, run, "--steps", "1") == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--resume" in err and "--overwrite" in err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert load_checkpoint(run)["step"] == 3


def test_overwrite_moves_the_old_run_aside_with_the_users_files(tmp_path, capsys):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert _train(config, run, "--steps", "3") == 0
    (run / "notes.txt").write_text("the user's own notes")
    with pytest.warns(UserWarning, match="nothing was deleted") as caught:
        assert _train(config, run, "--steps", "1", "--overwrite") == 0
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("run.previous-")]
    assert any(str(aside) in str(w.message) for w in caught)
    assert (aside / "notes.txt").read_text() == "the user's own notes"
    assert load_checkpoint(aside)["step"] == 3
    assert load_checkpoint(run)["step"] == 1
    assert not (run / "notes.txt").exists()
    assert not (run / LOCK_NAME).exists()  # released at the end


def test_a_resumed_run_may_use_its_folder(tmp_path):
    config = write_config(tmp_path)
    run = tmp_path / "run"
    assert _train(config, run, "--steps", "2") == 0
    assert main(["train", "gan", "--resume", str(run), "--steps", "3"]) == 0
    assert load_checkpoint(run)["step"] == 3


_HOLD = """
import sys, time
from gst_core.training.run_folder import hold_run_folder
with hold_run_folder(sys.argv[1], fresh=False):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_run_folder_in_use_is_refused_naming_pid_host_and_start(tmp_path, capsys):
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(run)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        config = write_config(tmp_path)
        capsys.readouterr()
        assert _train(config, run, "--steps", "1") == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid}" in err and socket.gethostname() in err
        assert "in use" in err and "started" in err
        assert not (run / "checkpoints").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_killed_process_is_taken_over_with_a_warning(tmp_path):
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(run)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()  # kill -9: its record stays in the lock file
    holder.wait()
    assert json.loads((run / LOCK_NAME).read_text())["pid"] == holder.pid
    with pytest.warns(UserWarning, match=f"pid {holder.pid}.*no longer running"):
        with hold_run_folder(run, fresh=True):
            assert json.loads((run / LOCK_NAME).read_text())["pid"] == os.getpid()


def _start_long_run(tmp_path, run):
    """A training child process of 10**6 steps, returned once it has logged a step."""
    config = write_config(tmp_path, **{"steps = 3": "steps = 1000000"})
    cmd = [
        sys.executable,
        "-m",
        "gst_core.cli",
        "train",
        "gan",
        "-c",
        str(config),
        "--run-dir",
        str(run),
        "--log-every",
        "1",
        "--checkpoint-every",
        "1000000",
    ]
    child = subprocess.Popen(
        cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, stderr=subprocess.PIPE, text=True
    )
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and metrics.read_text().strip()):
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
        time.sleep(0.05)
    return child, cmd


def test_a_second_training_into_a_folder_in_use_is_refused(tmp_path):
    run = tmp_path / "run"
    first, cmd = _start_long_run(tmp_path, run)
    try:
        second = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, timeout=120)
        assert second.returncode == 2
        assert f"in use by pid {first.pid} on host {socket.gethostname()}" in second.stderr
    finally:
        first.kill()
        first.wait()


def test_hold_run_folder_refuses_a_used_folder_from_python(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(RunFolderError, match="--overwrite"):
        with hold_run_folder(tmp_path, fresh=True):
            pass
